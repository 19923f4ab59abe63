#!/usr/bin/python
"""edgelift.pi.info: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/info.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

DOCUMENTATION = r"""
module: info
short_description: What a device is and what edgelift has installed there
description:
  - >-
    The C(edgelift device info) report as the fact edgelift_device: CPU, NEON, dot product, governor, temperature,
    throttling, Python, runtimes, memory, disk, current and previous release and their integrity.
extends_documentation_fragment:
  - edgelift.pi.device
author: edgelift contributors
"""

EXAMPLES = r"""
- edgelift.pi.info:
"""

RETURN = r"""
device:
  description: >-
    The C(edgelift device info) report (cpu, runtimes, memory, disk, current, previous, integrity, ...); also set
    as the fact edgelift_device.
  returned: success
  type: dict
"""


if __name__ == "__main__":
    refuse_to_run_on_device("info")
