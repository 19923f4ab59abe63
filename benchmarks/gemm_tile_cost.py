"""Estimated Raspberry Pi cost of each qs8 GEMM variant on given layer shapes: the calibration of the delegate's
per-layer tile choice (delegates/neon/src/kernels/qs8_gemm_cost.c), every variant the board's CPU runs side by side.

    .venv/bin/python benchmarks/gemm_tile_cost.py [--boards rpi4,rpi5] [--shapes digits+mobilenet_v2|M,N,K;...]
                                                  [--json]
    .venv/bin/python benchmarks/gemm_tile_cost.py --fit --boards rpi5   # the rule's pass costs, as C initializers

The kernels are cross-built with the delegate's per-file flags into one static aarch64 program
(benchmarks/gemm_tile_cost.c) that brackets one call per (variant, shape) with the meter's region markers; it
runs under Debian's qemu-aarch64 with the block-counting plugin (as `bench --emulate`), so instruction counts
are exact, and every executed block is costed by llvm-mca on the board's core: cycles are ESTIMATES (no caches,
branch misses; llvm 14 schedules the A76 with its A57 model). "choice" is the variant the delegate picks for the
shape (its rule, asked through the same program); "best" the cheapest measured here. --fit meters, for each
variant, one pass of r = 1..mr rows over 4 channel blocks at k = 64 and 512 and prints the line through them.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
DRIVER = Path(__file__).resolve().with_suffix(".c")
CROSS = "aarch64-linux-gnu-gcc"
COMMON_FLAGS = ("-O3", "-ffp-contract=off", "-fno-math-errno")  # the library's (CMakeLists.txt)
# (M output pixels, N output channels, K) of the layers that matter: the digits CNN's convs and dense layers, and
# the GEMM shapes of MobileNetV2 1.0 224 (first conv, the 1x1 expansions and projections by resolution, the head)
SHAPES = {
    "digits": [(64, 16, 9), (64, 32, 144), (16, 32, 288), (1, 32, 32), (1, 10, 32)],
    "mobilenet_v2": [(12544, 32, 27), (12544, 16, 32), (12544, 96, 16), (3136, 24, 96), (3136, 144, 24),
                     (784, 32, 144), (784, 192, 32), (196, 64, 192), (196, 384, 64), (196, 96, 384),
                     (49, 160, 576), (49, 960, 160), (49, 320, 960), (49, 1280, 320), (1, 1000, 1280)],
}


def _flags(source: Path) -> list[str]:
    """The per-file flags of delegates/neon/CMakeLists.txt's SIMD section, by the file's name."""
    if source.stem.endswith("__neondot"):
        return ["-march=armv8.2-a+dotprod", "-fno-schedule-insns"]
    if source.stem.endswith("__neon_mlal"):
        return ["-fno-schedule-insns"]
    return []


def build(out: Path) -> Path:
    cc = shutil.which(CROSS)
    if cc is None:
        raise SystemExit(f"{CROSS} is missing: install Debian's packages with `bash .ci/system-deps.sh`")
    sources = [*sorted(KERNELS.glob("*.c")), SRC / "cpu_features.c", DRIVER]
    objects = []
    for src in sources:
        obj = out / f"{src.stem}.o"
        cmd = [cc, "-std=c11", *COMMON_FLAGS, f"-I{KERNELS}", f"-I{SRC}", *_flags(src), "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"compiling {src.name} failed:\n{proc.stderr}")
        objects.append(str(obj))
    exe = out / "gemm_tile_cost"
    proc = subprocess.run([cc, "-static", *objects, "-o", str(exe), "-lm"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"linking failed:\n{proc.stderr}")
    return exe


def _run(exe: Path, board_name: str, shapes: list[tuple[int, int, int]], work: Path) -> dict:
    """One emulated run: {"cost": {(m, n, k): {variant: (instructions, est. cycles, the rule's estimate)}},
    "choice": {(m, n, k): variant}, "geometry": {variant: (mr, nr, kr, half_nr)}}."""
    from edgelift.device.emulate.boards import board as find_board
    from edgelift.device.emulate.counts import read_counts
    from edgelift.device.emulate.mca import CycleCache, block_key, cost_blocks
    from edgelift.device.emulate.pi_root import cache_home
    from edgelift.device.emulate.tools import find_tools, llvm_version

    board = find_board(board_name)
    tools = find_tools()
    counts_path = work / f"counts-{board_name}.txt"
    argv = [tools.qemu, "-cpu", board.qemu_cpu, "-plugin", f"{tools.plugin},out={counts_path}", str(exe),
            *(f"{m},{n},{k}" for m, n, k in shapes)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1200)
    if proc.returncode != 0:
        raise SystemExit(f"the emulated run failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    text = proc.stdout
    geometry = {name: tuple(int(x) for x in dims.split())
                for name, dims in re.findall(r"^GEOMETRY (\S+) ((?:\d+ ?){4})$", text, re.M)}
    choice = {(int(m), int(n), int(k)): name for m, n, k, name in re.findall(r"^CHOICE (\d+) (\d+) (\d+) (\S+)$",
                                                                             text, re.M)}
    cases = {int(r, 16): (name, (int(m), int(n), int(k)), float(e)) for r, name, m, n, k, e in
             re.findall(r"^CASE (\S+) (\S+) (\d+) (\d+) (\d+) (\S+)$", text, re.M)}
    counts = read_counts(counts_path)
    if counts.unbalanced:
        raise SystemExit(f"{counts.unbalanced} unbalanced region markers: the count is not trustworthy")
    cache = CycleCache(cache_home() / "emulate", board, llvm_version(tools.llvm_mca))
    cycles_of = cost_blocks([b.code for b in counts.blocks], board, tools.llvm_mc, tools.llvm_mca, cache)
    totals: dict = defaultdict(lambda: [0, 0.0])
    for block in counts.blocks:
        for (outer, _inner), n in block.executions.items():
            totals[outer][0] += n * block.instructions
            totals[outer][1] += n * cycles_of[block_key(block.code)]
    cost: dict = defaultdict(dict)
    for region, (name, shape, estimate) in cases.items():
        cost[shape][name] = (totals[region][0], totals[region][1], estimate)
    return {"cost": dict(cost), "choice": choice, "geometry": geometry}


FIT_K = (64, 512)  # two depths, multiples of every variant's k granule: an exact line per pass
FIT_BLOCKS = 4  # channel blocks per fitted call, so the call's own overhead is spread as in a real layer


def fit(exe: Path, board: str, work: Path) -> dict:
    """{variant: (passes, half passes)}, each [(fixed, per k) for r in 1..mr]: a pass of r rows over one block from
    calls of m = r over FIT_BLOCKS blocks; a half block (variants that have one) from the same calls with one more,
    half-full block, less the calls without it."""
    geometry = _run(exe, board, [], work)["geometry"]
    shapes = sorted({(r, FIT_BLOCKS * nr + extra, k) for mr, nr, _kr, half in geometry.values()
                     for r in range(1, mr + 1) for k in FIT_K for extra in ((0, half) if half else (0,))})
    cost = _run(exe, board, shapes, work)["cost"]

    def line(name, r, n, blocks, less=None):
        lo, hi = ((cost[(r, n, k)][name][1] - (cost[(r, less, k)][name][1] if less else 0.0)) / blocks
                  for k in FIT_K)
        per_k = (hi - lo) / (FIT_K[1] - FIT_K[0])
        return lo - per_k * FIT_K[0], per_k

    out = {}
    for name, (mr, nr, _kr, half) in geometry.items():
        n = FIT_BLOCKS * nr
        passes = [line(name, r, n, FIT_BLOCKS) for r in range(1, mr + 1)]
        halves = [line(name, r, n + half, 1, less=n) for r in range(1, mr + 1)] if half else []
        out[name] = (passes, halves)
    return out


def _report(board: str, res: dict) -> None:
    names = sorted({v for r in res["cost"].values() for v in r if "scalar" not in v})
    print(f"{board}: est. cycles of one call (llvm-mca ESTIMATES; instructions exact), ratio to the best; "
          "the rule's choice marked *")
    print("  M x N x K          " + "  ".join(f"{v:>28}" for v in names) + "  choice/best")
    chosen = first = best_sum = 0.0
    for shape, r in res["cost"].items():
        m, n, k = shape
        best = min((r[v][1], v) for v in names)[1]
        pick = res["choice"][shape]
        cells = [f"{'*' if v == pick else ' '}{r[v][1]:>13,.0f} ({r[v][1] / r[best][1]:.2f})" for v in names]
        print(f"  {m:>5} x {n:>4} x {k:>4}  " + "  ".join(f"{c:>28}" for c in cells)
              + f"  {r[pick][1] / r[best][1]:.3f}")
        chosen += r[pick][1]
        best_sum += r[best][1]
        first += r[next(v for v in r if v in names)][1]  # the CPU's first (best-first) variant: the old choice
    print(f"  sum over the shapes: per-layer choice {chosen:,.0f}, one variant per CPU {first:,.0f} "
          f"({chosen / first:.3f}x), best per shape {best_sum:,.0f}")


def parse_shapes(text: str) -> list[tuple[int, int, int]]:
    if text in SHAPES:
        return SHAPES[text]
    if not any(ch.isdigit() for ch in text):
        raise SystemExit(f"unknown shape set {text!r}; allowed: {', '.join(SHAPES)} or M,N,K;M,N,K...")
    shapes = []
    for part in text.split(";"):
        try:
            m, n, k = (int(x) for x in part.split(","))
        except ValueError:
            raise SystemExit(f"shape {part!r} is not M,N,K; allowed: {', '.join(SHAPES)} or M,N,K;M,N,K...") from None
        if min(m, n, k) < 1:
            raise SystemExit(f"shape {part!r} has a size below 1; M, N and K must be positive")
        shapes.append((m, n, k))
    return shapes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--shapes", default="digits+mobilenet_v2",
                    help="model names joined by '+' (" + ", ".join(SHAPES) + ") or M,N,K;M,N,K...")
    ap.add_argument("--fit", action="store_true",
                    help="fit the rule's pass costs (kernels/qs8_gemm_cost.c) on the first board instead")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    shapes = [s for part in args.shapes.split("+") for s in parse_shapes(part)]
    boards = args.boards.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(Path(tmp))
        if args.fit:
            for name, (passes, halves) in fit(exe, boards[0], Path(tmp)).items():
                for label, table in (("pass", passes), ("half", halves)):
                    if table:
                        print(f"    {name} {label}: {{" + ", ".join(f"{{{a:.1f}f, {b:.3f}f}}" for a, b in table)
                              + "}")
            return 0
        results = {board: _run(exe, board, shapes, Path(tmp)) for board in boards}
    if args.json:
        print(json.dumps({b: [{"m": s[0], "n": s[1], "k": s[2], "choice": res["choice"][s],
                               "variants": {v: {"instructions": c[0], "cycles": c[1], "rule_estimate": c[2]}
                                            for v, c in r.items()}}
                              for s, r in res["cost"].items()] for b, res in results.items()}, indent=1))
        return 0
    for board, res in results.items():
        _report(board, res)
    print("\nESTIMATE: qemu-aarch64 with edgelift's counting plugin, one call per variant and shape after one "
          "unmarked warm-up; cycles from llvm-mca per executed block (no caches, branch misses).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
