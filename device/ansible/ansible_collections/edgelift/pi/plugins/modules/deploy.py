#!/usr/bin/python
"""edgelift.pi.deploy: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/deploy.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

DOCUMENTATION = r"""
module: deploy
short_description: Make an edgelift bundle live on a device, verified, atomically
description:
  - >-
    Exactly what C(edgelift deploy --host) does (the same code, run on the controller): lock, upload to staging,
    sha256 of every file on the device, self-check bit for bit against the desktop reference, atomic switch,
    previous release kept. C(changed) only when a new release went live: a bundle already live that passes its self-
    check is left alone. Check mode reads the device and writes nothing. Sets the facts edgelift_release,
    edgelift_previous, edgelift_bundle_id, edgelift_runtime and edgelift_partition.
options:
  bundle:
    description: A bundle folder on the controller (C(edgelift bundle MODEL.tflite -o m.bundle)).
    type: path
    required: true
  keep:
    description: Releases kept on the device (never current or previous).
    type: int
    default: 3
  install_runtime:
    description: Create <remote_dir>/venv with tflite-runtime and numpy if the device's Python has none.
    type: bool
    default: false
  wheels:
    description: With install_runtime, install offline from this folder of aarch64 wheels.
    type: path
extends_documentation_fragment:
  - edgelift.pi.device
author: edgelift contributors
"""

EXAMPLES = r"""
- name: Deploy the bundle
  edgelift.pi.deploy:
    bundle: /srv/models/m.bundle
  register: deployed
"""

RETURN = r"""
bundle_id:
  description: The bundle's id (12 hex digits), as C(edgelift bundle) printed it.
  returned: success
  type: str
msg:
  description: What happened, in one line (a new release went live, or why nothing changed).
  returned: always
  type: str
partition:
  description: The delegate's partition line from the self-check (N of M nodes delegated in K partitions).
  returned: success
  type: str
previous:
  description: The release live before this one, kept for rollback.
  returned: success
  type: str
release:
  description: The release live now; in check mode the one that stays live (none where a first deploy would make it).
  returned: success
  type: str
runtime:
  description: The TFLite runtime the self-check ran on (tflite_runtime 2.14.0).
  returned: success
  type: str
"""


if __name__ == "__main__":
    refuse_to_run_on_device("deploy")
