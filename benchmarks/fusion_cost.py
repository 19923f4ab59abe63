"""Estimated Raspberry Pi cost of the residual-ADD fusion (delegates/neon/src/ops/fusion.h): the same delegate
build with fuse=off (every node alone) and fuse=on (ADDs in their GEMMs' epilogues), side by side in one run.

    .venv/bin/python benchmarks/fusion_cost.py [--models mobilenet_v2,resnet50] [--boards rpi4,rpi5] [--markdown]

Each cell is one warm inference under qemu-aarch64 with the block-counting plugin (edgelift.device.emulate, as
benchmarks/pi_cost.py): exact instruction counts, cycles ESTIMATED by llvm-mca per executed block. The meter
models no caches, so the fusion's real gain -- the conv's int8 output is neither written nor read back, each
residual read once into the epilogue -- does not appear here; what does is the work of the separate ADD pass
(its loads, stores and loop) that the epilogue no longer does. "ADD share": the delegate's cycles in ADD nodes
(after fusion a fused ADD's work is counted in its CONV_2D's region). XNNPACK's row comes from pi_cost.py's
cache where it has measured it (run pi_cost.py first for the vs-XNNPACK column).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _share(cost, op: str) -> float:
    return sum(s.cycles for s in cost.by_op if s.name == op)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,resnet50")
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--runtime", default="tflite-runtime")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    import pi_cost

    from edgelift.device.emulate import emulate_bench
    from edgelift.device.emulate.boards import board as find_board
    from edgelift.device.emulate.result import si

    head = ["model", "board", "fuse", "instructions", "est. cycles", "ADD share", "on / off", "vs XNNPACK"]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in pi_cost._models(args.models.split(","), Path(tmp)).items():
            for board in args.boards.split(","):
                rows, shas = {}, set()
                with ThreadPoolExecutor(2) as pool:  # both emulations at once (each is one qemu process)
                    runs = {fuse: pool.submit(emulate_bench, path, board=board, delegates="neon",
                                              runtime=args.runtime, delegate_options={"fuse": fuse})
                            for fuse in ("off", "on")}
                for fuse, run in runs.items():
                    result = run.result()
                    if result.errors:
                        raise SystemExit(f"{path.name} on {board} fuse={fuse}: {result.errors}")
                    rows[fuse] = result.rows[0]
                    shas.add(result.rows[0].outputs_sha256)
                if len(shas) != 1:
                    raise SystemExit(f"{path.name} on {board}: fuse=on and fuse=off give different outputs")
                xnn = pi_cost._cached_row(pi_cost._cache_file(path, board, args.runtime, "xnnpack"))
                for fuse, r in rows.items():
                    lines.append([label, find_board(board).title, fuse, si(r.instructions), si(r.cycles),
                                  f"{100 * _share(r, 'ADD') / r.cycles:.1f}%",
                                  f"{r.cycles / rows['off'].cycles:.3f}",
                                  f"{r.cycles / xnn.cycles:.2f}" if xnn else "-"])
    pi_cost.print_table(head, lines, args.markdown)
    print("\nESTIMATE: qemu-aarch64 instruction counts, llvm-mca cycles per executed block, 1 thread, one warm "
          "inference; no caches modelled (the fusion's memory-traffic gain is not in these figures).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
