"""edgelift.pi.deploy: make a bundle live on the device, the way `edgelift deploy --host` does (one code path).

changed only when a new release went live: a bundle already live and passing its self-check is left alone.
Check mode reads the device and says whether a deploy would happen; it writes nothing there.
"""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction, local_bundle


class ActionModule(EdgeliftAction):
    ARGUMENT_SPEC = {
        "bundle": {"type": "path", "required": True},
        "keep": {"type": "int", "default": 3},
        "install_runtime": {"type": "bool", "default": False},
        "wheels": {"type": "path"},
    }

    def act(self, device, args, check_mode):
        from edgelift import option_checks as check
        from edgelift.device.remote.converge import converge

        check.whole("keep", args["keep"], 1, "keep: 3 keeps three releases")  # as DeployOptions checks it
        local, manifest = local_bundle(args["bundle"])
        done = converge(device, local, manifest, check_mode=check_mode, keep=args["keep"],
                        install_runtime=args["install_runtime"], wheels=args.get("wheels"))
        return {"changed": done.changed, "msg": done.reason, "release": done.release, "previous": done.previous,
                "bundle_id": done.bundle_id, "runtime": done.runtime, "partition": done.partition,
                "ansible_facts": done.facts()}
