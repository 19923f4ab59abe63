#!/usr/bin/python
"""edgelift.pi.health: documentation. The work is done on the controller by the action plugin of the same
name (plugins/action/health.py), which imports edgelift; this file is never sent to the device."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.module_utils.controller_only import refuse_to_run_on_device

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
latency_ms:
  description: The run of the reference input on the device, in milliseconds.
  returned: success, not in check mode
  type: float
msg:
  description: What happened, in one line.
  returned: always
  type: str
partition:
  description: The delegate's partition line from the self-check.
  returned: success, not in check mode
  type: str
release:
  description: The live release that was checked.
  returned: success, not in check mode
  type: str
runtime:
  description: The TFLite runtime the self-check ran on.
  returned: success, not in check mode
  type: str
seconds:
  description: How long the health gate took, seen from the controller.
  returned: success, not in check mode
  type: float
"""


if __name__ == "__main__":
    refuse_to_run_on_device("health")
