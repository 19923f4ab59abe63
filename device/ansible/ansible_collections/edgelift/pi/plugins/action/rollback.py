"""edgelift.pi.rollback: switch the device back to its previous release (re-verified first), as `edgelift
rollback` does. Always a change when it succeeds; check mode says what it would switch to."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction


class ActionModule(EdgeliftAction):
    def act(self, device, args, check_mode):
        from edgelift.device.remote.converge import probe
        from edgelift.device.remote.deploy import rollback_device
        from edgelift.errors import RemoteError

        if check_mode:
            state = probe(device)
            if not state.get("previous"):
                raise RemoteError(f"{device.target}: nothing to roll back to: no previous release in "
                                  f"{device.remote_dir}", hint="rollback needs two deploys")
            return {"changed": True, "release": state["previous"], "previous": state.get("current"),
                    "msg": f"check mode: would switch {state.get('current')} back to {state['previous']}"}
        result = rollback_device(device)
        return {"changed": True, "release": result.release, "previous": result.previous,
                "msg": f"rolled back to {result.release} (previous: {result.previous or 'none'})",
                "ansible_facts": {"edgelift_release": result.release, "edgelift_previous": result.previous}}
