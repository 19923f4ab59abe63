#!/usr/bin/python
"""edgelift.pi.rollback: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/rollback.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

DOCUMENTATION = r"""
module: rollback
short_description: Switch a device back to its previous release
description:
  - >-
    Re-verifies the previous release on the device, then swaps current and previous (C(edgelift rollback)).
  - >-
    Runs on the controller (an action plugin importing edgelift); Ansible's connection to the host is not used,
    so plays need no fact gathering.
options:
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
- edgelift.pi.rollback:
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
    raise SystemExit("edgelift.pi.rollback runs on the controller through its action plugin; "
                     "it cannot run on the device")


if __name__ == "__main__":
    main()
