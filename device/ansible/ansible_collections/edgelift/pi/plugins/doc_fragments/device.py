"""What every edgelift.pi module shares (extends_documentation_fragment): how to reach the device, and the
results of a failure, which the one action base class (plugin_utils/edgelift_action.py) makes for all of them."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
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
notes:
  - >-
    Runs on the controller (an action plugin importing edgelift); Ansible's connection to the host is not used,
    so plays need no fact gathering.
  - >-
    On failure every module returns msg (what happened, then what to do), error and hint (its two halves) and step
    (the step that failed: connect, upload, verify, self-check, switch, health, rollback); a device that cannot be
    reached is reported unreachable rather than failed.
"""
