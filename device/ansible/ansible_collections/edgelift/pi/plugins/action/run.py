"""edgelift.pi.run: run the live model on the device with an input file on the controller (.npy, or .npz with
arr_0, arr_1, ...); the outputs are written on the controller (.npy for one output, .npz for any number).
Never changes the device; the output file is written only when the run succeeded (and in check mode, not)."""

from __future__ import annotations

from ansible_collections.edgelift.pi.plugins.plugin_utils.edgelift_action import EdgeliftAction


class ActionModule(EdgeliftAction):
    ARGUMENT_SPEC = {
        "input": {"type": "path", "required": True},
        "output": {"type": "path"},
        "delegate": {"type": "str", "default": None, "choices": ["neon", "builtin", "xnnpack"]},
        "threads": {"type": "int", "default": 1},
    }

    def act(self, device, args, check_mode):
        import io

        import numpy as np

        from edgelift.atomic import write_bytes
        from edgelift.device.remote.command_options import RunOptions
        from edgelift.device.remote.commands import read_input_bytes, run_on

        o = RunOptions(delegate=args["delegate"], threads=args["threads"], input=args["input"],
                       output=args.get("output"))  # what `edgelift run` checks, before the device is reached
        data = read_input_bytes(args["input"])
        outputs, meta = run_on(device, data, delegate=o.delegate, threads=o.threads)
        result = {"changed": False, "runtime": f"{meta.get('runtime')} {meta.get('runtime_version')}",
                  "delegate": meta.get("delegate"), "partition": meta.get("partition"),
                  "latency_ms": meta.get("latency_ms"), "bundle_id": meta.get("bundle_id"),
                  "shapes": [list(o.shape) for o in outputs], "dtypes": [str(o.dtype) for o in outputs]}
        out = args.get("output")
        if out and not check_mode:
            buf = io.BytesIO()
            if out.endswith(".npz"):
                np.savez(buf, *outputs)
            else:
                if len(outputs) != 1:
                    from edgelift.errors import InvalidArgumentError

                    raise InvalidArgumentError(f"the model has {len(outputs)} outputs; output {out!r} is a .npy",
                                               hint="give an output path ending in .npz")
                np.save(buf, outputs[0], allow_pickle=False)
            write_bytes(out, buf.getvalue())
            result.update(changed=True, output=out)
        return result
