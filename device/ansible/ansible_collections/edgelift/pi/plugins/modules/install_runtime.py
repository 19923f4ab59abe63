#!/usr/bin/python
"""edgelift.pi.install_runtime: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/install_runtime.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

DOCUMENTATION = r"""
module: install_runtime
short_description: Give a device's Python a TFLite runtime and numpy
description:
  - >-
    If the device's Python lacks them, create <remote_dir>/venv with tflite-runtime 2.14.0 and numpy 1.26.4 (from
    PyPI on the device, or offline from a folder of aarch64 wheels). changed only when it was created.
options:
  wheels:
    description: A folder of aarch64 wheels on the controller, for devices without internet.
    type: path
extends_documentation_fragment:
  - edgelift.pi.device
author: edgelift contributors
"""

EXAMPLES = r"""
- edgelift.pi.install_runtime:
    wheels: wheels/aarch64
"""

RETURN = r"""
msg:
  description: What happened, in one line.
  returned: always
  type: str
python:
  description: The device's Python that has numpy and a TFLite runtime (the new venv's when one was created).
  returned: success, except in check mode where a venv would be created
  type: str
"""


if __name__ == "__main__":
    refuse_to_run_on_device("install_runtime")
