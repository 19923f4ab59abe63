"""edgelift.pi.health: the health gate of a rollout: the live release's self-check on the device, then a `run`
of the bundle's reference input whose outputs are compared on the controller with the bundle's reference."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction, local_bundle


class ActionModule(EdgeliftAction):
    ARGUMENT_SPEC = {"bundle": {"type": "path", "required": True}}

    def act(self, device, args, check_mode):
        from edgelift.device.remote.converge import health_gate

        local, manifest = local_bundle(args["bundle"])
        if check_mode:
            return {"changed": False, "skipped": True, "msg": "check mode: the health gate runs after a real deploy"}
        health = health_gate(device, local, manifest)
        return {"changed": False, "msg": f"{health['release']} is healthy: self-check and a run on the reference "
                f"input match the bundle bit for bit ({health['runtime']})", **health}
