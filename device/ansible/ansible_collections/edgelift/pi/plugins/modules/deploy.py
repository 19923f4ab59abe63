#!/usr/bin/python
"""edgelift.pi.deploy: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/deploy.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

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
    raise SystemExit("edgelift.pi.deploy runs on the controller through its action plugin; "
                     "it cannot run on the device")


if __name__ == "__main__":
    main()
