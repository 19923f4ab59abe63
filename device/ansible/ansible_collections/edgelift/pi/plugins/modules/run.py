#!/usr/bin/python
"""edgelift.pi.run: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/run.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

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
bundle_id:
  description: The id of the live bundle that ran.
  returned: success
  type: str
delegate:
  description: The delegate the run used on the device.
  returned: success
  type: str
dtypes:
  description: The outputs' dtypes, in order.
  returned: success
  type: list
  elements: str
latency_ms:
  description: The run on the device, in milliseconds.
  returned: success
  type: float
output:
  description: The output file written on the controller.
  returned: when output is given, not in check mode
  type: str
partition:
  description: The delegate's partition line.
  returned: success
  type: str
runtime:
  description: The TFLite runtime on the device and its version.
  returned: success
  type: str
shapes:
  description: The outputs' shapes, in order.
  returned: success
  type: list
  elements: list
"""


if __name__ == "__main__":
    refuse_to_run_on_device("run")
