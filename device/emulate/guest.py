"""The cost meter's guest: runs inside the emulated Raspberry Pi (aarch64 Python, numpy and one TFLite runtime
only) under qemu with the block-counting plugin, and marks what the meter counts.

    python3 guest.py SPEC.json

SPEC.json: {"agent": path to edgelift_agent.py, "model", "delegate": "neon" | "builtin" | "xnnpack",
            "neon": {"file", "options"} (for neon), "threads", "warmup", "runs", "seed", "out"}

The interpreter is made by the on-device agent's own `make_interpreter` (one implementation of "how a Pi runs
a model with delegate X"). After `warmup` unmarked inferences (first-run allocation and packing are not the
steady state), each of `runs` inferences is bracketed by the inference region, and as many empty regions
measure what the bracketing itself costs, so the meter can subtract it. The result (the partition line,
the runtime, the guest's memory map for symbolising addresses) goes to SPEC["out"] as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

# The region markers (delegates/neon/src/profile_marker.h): lseek(-1, what << 32 | region, WHENCE) fails with
# EBADF and changes nothing; the meter's plugin sees it.
MARK_WHENCE = 0x454C4D4B
MARK_BEGIN, MARK_END = 1, 2
CLASS_GUEST = 1
REGION_INFERENCE = CLASS_GUEST << 24 | 0
REGION_EMPTY = CLASS_GUEST << 24 | 1


def mark(what: int, region: int) -> None:
    try:
        os.lseek(-1, what << 32 | region, MARK_WHENCE)
    except OSError:
        pass


def _inputs(interp, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    values = []
    for detail in interp.get_input_details():
        dtype, shape = np.dtype(detail["dtype"]), detail["shape"]
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            lo, hi = (max(info.min, -128), min(info.max, 127)) if dtype.itemsize > 1 else (info.min, info.max)
            values.append(rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype))
        elif dtype.kind == "b":
            values.append(rng.integers(0, 1, size=shape, endpoint=True).astype(dtype))
        else:
            values.append(rng.uniform(-1.0, 1.0, size=shape).astype(dtype))
    return values


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        spec = json.load(fh)
    sys.path.insert(0, os.path.dirname(spec["agent"]))
    import edgelift_agent as agent

    result = {"ok": False}
    try:
        interp, meta = agent.make_interpreter(None, None, spec["delegate"], int(spec["threads"]),
                                              model=spec["model"], neon=spec.get("neon"))
        result["meta"] = meta
        for detail, value in zip(interp.get_input_details(), _inputs(interp, int(spec["seed"]))):  # noqa: B905
            interp.set_tensor(detail["index"], value)
        for _ in range(int(spec["warmup"])):
            interp.invoke()
        for _ in range(int(spec["runs"])):
            mark(MARK_BEGIN, REGION_INFERENCE)
            interp.invoke()
            mark(MARK_END, REGION_INFERENCE)
            mark(MARK_BEGIN, REGION_EMPTY)
            mark(MARK_END, REGION_EMPTY)
        digest = hashlib.sha256()
        for detail in interp.get_output_details():
            digest.update(interp.get_tensor(detail["index"]).tobytes())
        result.update(ok=True, outputs_sha256=digest.hexdigest())
    except agent.StepFailed as exc:
        result.update(error=exc.message)
    with open("/proc/self/maps") as fh:  # under qemu-user: the guest's own mappings
        result["maps"] = fh.read()
    with open(spec["out"], "w") as fh:
        json.dump(result, fh)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
