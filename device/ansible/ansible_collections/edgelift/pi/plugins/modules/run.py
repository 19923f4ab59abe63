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
  - >-
    Runs on the controller (an action plugin importing edgelift); Ansible's connection to the host is not used,
    so plays need no fact gathering.
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
  remote_dir:
    description: Where edgelift keeps releases on the device (host variable C(edgelift_remote_dir)).
    type: str
    default: ~/edgelift
  remote_python:
    description: The device's Python (host variable C(edgelift_remote_python) or C(ansible_python_interpreter)).
    type: str
  ssh_config:
    description: ssh config file (ssh -F); host variable C(edgelift_ssh_config) or env EDGELIFT_SSH_CONFIG.
    type: path
  identity:
    description: Private key file (ssh -i); default C(ansible_ssh_private_key_file).
    type: path
  accept_new_host_key:
    description: Record the key of a host seen for the first time (a changed key is still refused).
    type: bool
    default: false
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
