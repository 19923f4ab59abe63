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
extends_documentation_fragment:
  - edgelift.pi.device
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
