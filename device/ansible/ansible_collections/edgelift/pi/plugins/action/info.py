"""edgelift.pi.info: what `edgelift device info` reports (CPU, NEON/dot product, governor, temperature,
throttling, Python, runtimes, memory, disk, the live and previous releases, their integrity), as the
`edgelift_device` fact. Read only."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction


class ActionModule(EdgeliftAction):
    def act(self, device, args, check_mode):
        from edgelift.device.remote.commands import describe_device

        info = describe_device(device)
        return {"changed": False, "device": info,
                "ansible_facts": {"edgelift_device": info, "edgelift_release": info.get("current"),
                                  "edgelift_previous": info.get("previous")}}
