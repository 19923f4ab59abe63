#!/usr/bin/python
"""edgelift.pi.run: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/run.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

DOCUMENTATION = r"""
module: run
short_description: Run the live model on a device with an input file on the controller
description:
  - >-
    Like C(edgelift run): the input is .npy (or .npz with arr_0, arr_1, ...); outputs are written on the controller.
    Every run re-checks the files' sha256 on the device.
options:
  input:
    description: Input .npy or .npz on the controller.
    type: path
    required: true
  output:
    description: Output .npy (one output) or .npz (any number) on the controller.
    type: path
  delegate:
    description: Delegate on the device; left out, the one the bundle's self-check validated.
    type: str
    choices: [neon, builtin, xnnpack]
  threads:
    description: Threads on the device.
    type: int
    default: 1
extends_documentation_fragment:
  - edgelift.pi.device
author: edgelift contributors
"""

EXAMPLES = r"""
- edgelift.pi.run:
    input: x.npy
    output: "out/{{ inventory_hostname }}.npy"
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
    raise SystemExit("edgelift.pi.run runs on the controller through its action plugin; "
                     "it cannot run on the device")


if __name__ == "__main__":
    main()
