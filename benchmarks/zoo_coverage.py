"""How much of real architectures the NEON delegate and the XLA path run, and whether they are exact.

    .venv/bin/python benchmarks/zoo_coverage.py [--models a,b] [--inputs 4] [--markdown] [--no-gpu]

For every model of the test zoo (tests/zoo.py: Keras applications at small inputs and edge models, int8):
nodes, nodes delegated, partitions and the ops left to the runtime (x86-64 build of the delegate, LiteRT 2.3);
whether the delegate's outputs equal the builtin kernels' on `--inputs` seeded random inputs; whether the XLA
path (delegates/gpu, on this machine's CPU) lowers the model, and if so whether it is exact, else the first ops
it refuses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _random_inputs(runner, n: int) -> list[list[np.ndarray]]:
    from edgelift.device.runtime import random_like

    return [random_like(runner.input_details, seed=i) for i in range(n)]


def coverage(name: str, data: bytes, n_inputs: int, gpu: bool) -> dict:
    from edgelift.device.runtime import load_interpreter

    neon = load_interpreter(data, "neon")
    builtin = load_interpreter(data, "builtin")
    info = neon.partition_info
    row = {"model": name, "nodes": info.total_nodes, "delegated": len(info.delegated_nodes),
           "partitions": len(info.partitions), "left": sorted({op for _, op in info.not_delegated}),
           "neon_exact": True}
    feeds = _random_inputs(builtin, n_inputs)
    refs = []
    for feed in feeds:
        ref, got = builtin.run(feed), neon.run(feed)
        refs.append(ref)
        row["neon_exact"] &= all(np.array_equal(a, b) for a, b in zip(ref, got, strict=True))
    if gpu:
        from edgelift.delegates.gpu import GpuEngine
        from edgelift.errors import EdgeliftError

        try:
            engine = GpuEngine(data, batch=1)
        except EdgeliftError as exc:
            row["xla"] = f"refused: {exc.message[:140]}"
        else:
            same = all(np.array_equal(a, b) for feed, ref in zip(feeds, refs, strict=True)
                       for a, b in zip(ref, engine.predict_raw(feed), strict=True))
            row["xla"] = "exact" if same else "DIFFERS"
    return row


def main(argv=None) -> int:
    from tests import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(zoo.NAMES))
    ap.add_argument("--inputs", type=int, default=4)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-gpu", action="store_true", help="skip the XLA path")
    args = ap.parse_args(argv)
    rows = []
    for name in args.models.split(","):
        try:
            rows.append(coverage(name, zoo.tflite(name), args.inputs, not args.no_gpu))
        except Exception as exc:  # noqa: BLE001 - a model that does not convert or load is a row, not a crash
            rows.append({"model": name, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"})
        r = rows[-1]
        if "error" in r:
            line = [r["model"], "-", "-", "-", "-", r["error"], "-"]
        else:
            line = [r["model"], str(r["nodes"]), str(r["delegated"]), str(r["partitions"]),
                    "yes" if r["neon_exact"] else "NO", ", ".join(r["left"]) or "-", r.get("xla", "-")]
        print(("| " + " | ".join(line) + " |") if args.markdown else "  ".join(line), flush=True)
    whole = sum(1 for r in rows if r.get("partitions") == 1 and r.get("delegated") == r.get("nodes"))
    nodes = sum(r.get("nodes", 0) for r in rows)
    taken = sum(r.get("delegated", 0) for r in rows)
    print(f"\n{whole} of {len(rows)} models whole in one partition; {taken} of {nodes} nodes "
          f"({100 * taken / max(nodes, 1):.0f}%) delegated; exact: "
          f"{sum(1 for r in rows if r.get('neon_exact'))} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
