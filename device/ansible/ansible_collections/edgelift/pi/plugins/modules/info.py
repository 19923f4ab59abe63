#!/usr/bin/python
"""edgelift.pi.info: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/info.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

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
msg:
  description: What happened, in one line.
  returned: always
  type: str
step:
  description: On failure, the step that failed (connect, upload, verify, self-check, switch, health, rollback).
  returned: failed
  type: str
"""


def main() -> None:
    raise SystemExit("edgelift.pi.info runs on the controller through its action plugin; "
                     "it cannot run on the device")


if __name__ == "__main__":
    main()
