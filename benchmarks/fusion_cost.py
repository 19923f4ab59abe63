"""Estimated Raspberry Pi cost of the fusions (delegates/neon/src/ops/fusion.h): the same delegate build with
fuse=off (every node alone), fuse=add (residual ADDs in their GEMMs' epilogues), fuse=dwconv (each depthwise and
its project 1x1 per row band) and fuse=on (both), side by side in one run.

    .venv/bin/python benchmarks/fusion_cost.py [--models mobilenet_v2,resnet50] [--boards rpi4,rpi5]
                                               [--fuse off,add,dwconv,on] [--markdown]

Each cell is one warm inference under qemu-aarch64 with the block-counting plugin (edgelift.device.emulate, as
benchmarks/pi_cost.py): exact instruction counts, cycles ESTIMATED by llvm-mca per executed block. The meter
models no caches, so the fusion's real gain -- the conv's int8 output is neither written nor read back, each
residual read once into the epilogue -- does not appear here; what does is the work of the separate ADD pass
(its loads, stores and loop) that the epilogue no longer does; for fuse=dwconv, the 1x1 GEMM's calls on bands
of a few rows (more tile tails) instead of one call per image. "ADD share": the delegate's cycles in ADD nodes
(after fusion a fused ADD's work is counted in its CONV_2D's region, a fused 1x1's in its depthwise's). XNNPACK's
row comes from pi_cost.py's cache where it has measured it (run pi_cost.py first for the vs-XNNPACK column).
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
    ap.add_argument("--fuse", default="off,add,dwconv,on", help="fuse= values, compared with the first")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    from edgelift.delegates.neon import FUSE

    fuses = args.fuse.split(",")
    bad = [f for f in fuses if f not in FUSE]
    if bad or len(set(fuses)) != len(fuses):
        raise SystemExit(f"--fuse {args.fuse!r}: give distinct values of {', '.join(FUSE)}, e.g. off,dwconv")
    import pi_cost

    from edgelift.device.emulate import emulate_bench
    from edgelift.device.emulate.boards import board as find_board
    from edgelift.device.emulate.result import si

    head = ["model", "board", "fuse", "instructions", "est. cycles", "ADD share", f"vs {fuses[0]}", "vs XNNPACK"]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in pi_cost._models(args.models.split(","), Path(tmp)).items():
            for board in args.boards.split(","):
                rows, shas = {}, set()
                with ThreadPoolExecutor(2) as pool:  # two emulations at a time (each is one qemu process)
                    runs = {fuse: pool.submit(emulate_bench, path, board=board, delegates="neon",
                                              runtime=args.runtime, delegate_options={"fuse": fuse})
                            for fuse in fuses}
                for fuse, run in runs.items():
                    result = run.result()
                    if result.errors:
                        raise SystemExit(f"{path.name} on {board} fuse={fuse}: {result.errors}")
                    rows[fuse] = result.rows[0]
                    shas.add(result.rows[0].outputs_sha256)
                if len(shas) != 1:
                    raise SystemExit(f"{path.name} on {board}: fuse={' / '.join(fuses)} give different outputs")
                xnn = pi_cost._cached_row(pi_cost._cache_file(path, board, args.runtime, "xnnpack"))
                for fuse, r in rows.items():
                    lines.append([label, find_board(board).title, fuse, si(r.instructions), si(r.cycles),
                                  f"{100 * _share(r, 'ADD') / r.cycles:.1f}%",
                                  f"{r.cycles / rows[fuses[0]].cycles:.3f}",
                                  f"{r.cycles / xnn.cycles:.2f}" if xnn else "-"])
    pi_cost.print_table(head, lines, args.markdown)
    print("\nESTIMATE: qemu-aarch64 instruction counts, llvm-mca cycles per executed block, 1 thread, one warm "
          "inference; no caches modelled (the fusion's memory-traffic gain is not in these figures).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
