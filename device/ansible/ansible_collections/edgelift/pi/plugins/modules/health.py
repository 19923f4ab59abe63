#!/usr/bin/python
"""edgelift.pi.health: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/health.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

DOCUMENTATION = r"""
module: health
short_description: "The health gate of a rollout - self-check and a run on the reference input"
description:
  - >-
    Runs the live release's self-check on the device, then a C(run) of the bundle's reference input whose outputs
    are compared on the controller with the bundle's reference outputs (bit for bit for integers). Fails if the live
    release is not this bundle or anything differs. Skipped in check mode.
options:
  bundle:
    description: The bundle folder that should be live.
    type: path
    required: true
extends_documentation_fragment:
  - edgelift.pi.device
author: edgelift contributors
"""

EXAMPLES = r"""
- edgelift.pi.health:
    bundle: /srv/models/m.bundle
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
    raise SystemExit("edgelift.pi.health runs on the controller through its action plugin; "
                     "it cannot run on the device")


if __name__ == "__main__":
    main()
