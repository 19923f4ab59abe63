"""Estimated Raspberry Pi cost of whole models: the NEON delegate vs XNNPACK (int8 enabled) vs the builtin kernels,
on an emulated Pi 4 (Cortex-A72, kernels=neon) and Pi 5 (Cortex-A76, kernels=dot), one table of ratios.

    .venv/bin/python benchmarks/pi_cost.py [--models mobilenet_v2,digits] [--boards rpi4,rpi5]
                                           [--runtime tflite-runtime] [--markdown]

Each row is `edgelift bench MODEL --emulate BOARD -d neon,xnnpack,builtin` (edgelift.device.emulate): exact
instruction counts of one warm inference under qemu-aarch64 with the block-counting plugin, and cycles
ESTIMATED by llvm-mca per executed block (caches, branch misses, threads and thermal left out; llvm 14 schedules
the A76 with its A57 model). Counts are deterministic, so one run per cell is the figure (no spread to report).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELEGATES = ("neon", "xnnpack", "builtin")


def _models(names: list[str], folder: Path) -> dict[str, Path]:
    from tests import modelkit

    out = {}
    for name in names:
        if name == "mobilenet_v2":
            label, data = "MobileNetV2 1.0 224", modelkit.cached("int8", modelkit.mobilenet_v2)
        elif name == "digits":
            label, data = "digits CNN", modelkit.digits_int8()
        elif name == "mobilenet_v1":
            label, data = "MobileNetV1 0.25 128", modelkit.cached("int8", modelkit.mobilenet_v1)
        else:
            raise SystemExit(f"unknown model {name!r}; allowed: mobilenet_v2, digits, mobilenet_v1")
        path = folder / f"{name}.tflite"
        path.write_bytes(data)
        out[label] = path
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,digits")
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--runtime", default="tflite-runtime", help="the Pi's runtime: tflite-runtime or ai-edge-litert")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    ap.add_argument("--details", action="store_true", help="also print each run's full report")
    args = ap.parse_args(argv)
    from edgelift.device.emulate import emulate_bench
    from edgelift.device.emulate.result import si

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in _models(args.models.split(","), Path(tmp)).items():
            for board in args.boards.split(","):
                result = emulate_bench(path, board=board, delegates=",".join(DELEGATES), runtime=args.runtime)
                if args.details:
                    print(result.format(), "\n")
                if result.errors:
                    raise SystemExit(f"{label} on {board}: {result.errors}")
                cost = {r.delegate: r for r in result.rows}
                rows.append((label, result.board.title, cost, result.rows[0].runtime))
    head = ["model", "board", "delegate", "instructions", "est. cycles", "est. ms", "vs XNNPACK", "vs builtin"]
    lines = []
    for label, board, cost, _runtime in rows:
        for name in DELEGATES:
            r = cost[name]
            lines.append([label, board, "edgelift neon" if name == "neon" else name,
                          si(r.instructions), si(r.cycles), f"{r.ms:.3g}",
                          f"{r.cycles / cost['xnnpack'].cycles:.2f}", f"{r.cycles / cost['builtin'].cycles:.2f}"])
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]
        for line in (head, *lines):
            print("  ".join(x.ljust(widths[i]) if i < 3 else x.rjust(widths[i]) for i, x in enumerate(line)))
    print(f"\nESTIMATE: {rows[0][3] if rows else ''} under qemu-aarch64 with edgelift's counting plugin, 1 thread, "
          "one warm inference; cycles from llvm-mca per executed block (no caches, branch misses, threads, "
          "thermal); ms at 1.8 GHz (Pi 4) / 2.4 GHz (Pi 5).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
