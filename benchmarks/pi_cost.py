"""Estimated Raspberry Pi cost of whole models: the NEON delegate vs XNNPACK (int8 enabled) vs the builtin kernels,
on an emulated Pi 4 (Cortex-A72, kernels=neon) and Pi 5 (Cortex-A76, kernels=dot), one table of ratios.

    .venv/bin/python benchmarks/pi_cost.py [--models mobilenet_v2,digits,efficientnet_b0,mobilenet_v3_large,resnet50]
                                           [--boards rpi4,rpi5]
                                           [--runtime tflite-runtime] [--markdown]

Each row is `edgelift bench MODEL --emulate BOARD -d neon,xnnpack,builtin` (edgelift.device.emulate): exact
instruction counts of one warm inference under qemu-aarch64 with the block-counting plugin, and cycles
ESTIMATED by llvm-mca per executed block (caches, branch misses, threads and thermal left out; llvm 14 schedules
the A76 with its A57 model). Counts are deterministic, so one run per cell is the figure (no spread to report).

The runtime's own rows (xnnpack, builtin) do not depend on edgelift's code: they are kept per model (its bytes'
sha256), board and runtime under .cache/emulate/pi_cost/ and reused (--fresh measures them again), so a rerun
after a delegate change emulates only the delegate (a 224 model's emulation takes minutes). --neon-library
meters another aarch64 build of the delegate (e.g. an older commit's) for before/after figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELEGATES = ("neon", "xnnpack", "builtin")
# the zoo's Keras applications at 224x224 (random weights, 10 classes, converted once and cached like the zoo's)
APPLICATIONS = {"efficientnet_b0": "EfficientNetB0", "mobilenet_v3_large": "MobileNetV3Large", "resnet50": "ResNet50"}


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
        elif name in APPLICATIONS:
            from tests import zoo

            label, data = f"{APPLICATIONS[name]} 224", modelkit.cached("int8", zoo.application, name=APPLICATIONS[name],
                                                                       size=224)
        else:
            raise SystemExit(f"unknown model {name!r}; allowed: mobilenet_v2, digits, mobilenet_v1, "
                             + ", ".join(APPLICATIONS))
        path = folder / f"{name}.tflite"
        path.write_bytes(data)
        out[label] = path
    return out


def _cache_file(model: Path, board: str, runtime: str, delegate: str) -> Path:
    from edgelift.device.emulate.pi_root import cache_home

    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
    return cache_home() / "emulate" / "pi_cost" / f"{digest}-{board}-{runtime}-{delegate}.json"


def _cached_row(path: Path):
    from edgelift.device.emulate.result import DelegateCost, Share

    if not path.is_file():
        return None
    d = json.loads(path.read_text())
    d["by_op"] = [Share(**x) for x in d["by_op"]]
    d["by_kernel"] = [Share(**x) for x in d["by_kernel"]]
    return DelegateCost(**d)


def _measure(path: Path, board: str, runtime: str, fresh: bool, neon_library: str | None, details: bool) -> dict:
    """{delegate: DelegateCost} for this model and board; the runtime's rows from the cache where they are."""
    from edgelift.device.emulate import emulate_bench

    cost = {}
    if not fresh:
        for name in DELEGATES[1:]:
            row = _cached_row(_cache_file(path, board, runtime, name))
            if row is not None:
                cost[name] = row
    wanted = [name for name in DELEGATES if name not in cost]
    result = emulate_bench(path, board=board, delegates=",".join(wanted), runtime=runtime, neon_library=neon_library)
    if details:
        print(result.format(), "\n", flush=True)
    if result.errors:
        raise SystemExit(f"{path.name} on {board}: {result.errors}")
    for row in result.rows:
        cost[row.delegate] = row
        if row.delegate != "neon":
            out = _cache_file(path, board, runtime, row.delegate)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(asdict(row)))
    if cost["neon"].outputs_sha256 != cost["builtin"].outputs_sha256:
        raise SystemExit(f"{path.name} on {board}: the delegate's outputs differ from builtin's on the emulated Pi")
    return cost


def print_table(head: list[str], lines: list[list[str]], markdown: bool, text_columns: int = 3) -> None:
    """The benchmarks' table: markdown, or aligned text (the first `text_columns` left, the figures right)."""
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if i < text_columns else "---:" for i in range(len(head))) + "|")
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(h), *(len(x[i]) for x in lines)) for i, h in enumerate(head)]
    for line in (head, *lines):
        print("  ".join(x.ljust(widths[i]) if i < text_columns else x.rjust(widths[i]) for i, x in enumerate(line)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mobilenet_v2,digits")
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--runtime", default="tflite-runtime", help="the Pi's runtime: tflite-runtime or ai-edge-litert")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    ap.add_argument("--details", action="store_true", help="also print each run's full report")
    ap.add_argument("--fresh", action="store_true", help="measure xnnpack and builtin again instead of the cache")
    ap.add_argument("--neon-library", help="meter this aarch64 build of the delegate instead of this checkout's")
    args = ap.parse_args(argv)
    from edgelift.device.emulate.boards import board as find_board
    from edgelift.device.emulate.result import si

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in _models(args.models.split(","), Path(tmp)).items():
            for board in args.boards.split(","):
                cost = _measure(path, board, args.runtime, args.fresh, args.neon_library, args.details)
                rows.append((label, find_board(board).title, cost, cost["neon"].runtime))
    head = ["model", "board", "delegate", "instructions", "est. cycles", "est. ms", "vs XNNPACK", "vs builtin"]
    lines = []
    for label, board, cost, _runtime in rows:
        for name in DELEGATES:
            r = cost[name]
            lines.append([label, board, "edgelift neon" if name == "neon" else name,
                          si(r.instructions), si(r.cycles), f"{r.ms:.3g}",
                          f"{r.cycles / cost['xnnpack'].cycles:.2f}", f"{r.cycles / cost['builtin'].cycles:.2f}"])
    print_table(head, lines, args.markdown)
    print(f"\nESTIMATE: {rows[0][3] if rows else ''} under qemu-aarch64 with edgelift's counting plugin, 1 thread, "
          "one warm inference; cycles from llvm-mca per executed block (no caches, branch misses, threads, "
          "thermal); ms at 1.8 GHz (Pi 4) / 2.4 GHz (Pi 5).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
