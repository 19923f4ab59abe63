"""edgelift.pi.install_runtime: make sure the device's Python has numpy and a TFLite runtime; if not, create
<remote_dir>/venv with tflite-runtime and numpy (from PyPI on the device, or offline from `wheels`, a folder of
aarch64 wheels on the controller). changed only when the venv was made; check mode only looks."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction


class ActionModule(EdgeliftAction):
    ARGUMENT_SPEC = {"wheels": {"type": "path"}}

    def act(self, device, args, check_mode):
        from edgelift.device.remote.install_runtime import ensure_runtime, has_runtime

        if has_runtime(device):
            return {"changed": False, "python": device.remote_python or "(default)",
                    "msg": f"the device's Python {device.python_label()} has numpy and a TFLite runtime"}
        if check_mode:
            return {"changed": True, "msg": f"check mode: would create {device.path('venv')} with a TFLite runtime"}
        python = ensure_runtime(device, wheels=args.get("wheels"))
        return {"changed": True, "python": python, "msg": f"installed a TFLite runtime and numpy in {python}",
                "ansible_facts": {"edgelift_remote_python": python}}
