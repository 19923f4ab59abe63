#!/usr/bin/python
"""edgelift.pi.rollback: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/rollback.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

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
previous:
  description: The release that was live before the switch.
  returned: success
  type: str
release:
  description: The release live now (in check mode, the one that would be).
  returned: success
  type: str
"""


if __name__ == "__main__":
    refuse_to_run_on_device("rollback")
