"""ARM ESTIMATES for the NEON int8 GEMM microkernels: int8 MACs per cycle of each inner loop, by llvm-mca.

No Raspberry Pi is attached to CI, so the ARM figures are static estimates, not measurements:

1. compile each kernel file to assembly with the cross compiler and the same per-file flags as the build
   (`aarch64-linux-gnu-gcc -O3 -S`, plus `-DEL_MCA_MARKERS`, which puts `# LLVM-MCA-BEGIN/END` comments
   around the body of the k loop through inline asm);
2. extract the whole inner loop: from the loop label that precedes the BEGIN marker to the branch that
   jumps back to it (so the pointer increments, compare and branch are counted too);
3. run `llvm-mca -mcpu=<core>` on it (Debian's llvm) and divide the MACs one iteration performs by the
   steady-state cycles per iteration.

Cortex-A72 (Pi 4) peaks at 8 int8 MACs/cycle with SMULL/SMLAL (one 8-lane multiply per cycle); Cortex-A76
(Pi 5) at 32 with SDOT (two 16-MAC dot products per cycle).

Which machine model llvm-mca used is printed with each row: Debian bookworm's llvm-mca 14 models both
-mcpu=cortex-a72 and -mcpu=cortex-a76 with its Cortex-A57 scheduling model. That is a fair model of the A72
(the A57's successor, same pipelines), but only a rough one of the A76 (e.g. one 128-bit load per cycle where
the A76 has two load pipelines), so the A76 figures are the rougher estimates.

    python benchmarks/neon_mca.py            # table of estimates
    python benchmarks/neon_mca.py --show-loop # also print each extracted loop
    python benchmarks/neon_mca.py --json      # machine-readable
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS_DIR = SRC / "kernels"
CC = "aarch64-linux-gnu-gcc"
BASE_FLAGS = ["-std=c11", "-O3", "-S", "-DEL_MCA_MARKERS", f"-I{KERNELS_DIR}", f"-I{SRC}"]


@dataclasses.dataclass(frozen=True)
class Kernel:
    name: str  # the function (and file) name
    loop: str  # the marker: the full register tile, or "<name>.1row" for rows left over / batch-1 FC
    flags: tuple[str, ...]  # the per-file flags of delegates/neon/CMakeLists.txt (marked SIMD section)
    mcpu: str  # the core it is meant for
    macs_per_iteration: int  # rows * NR * k bytes per iteration of the k loop (16, or 8 for the c4 layout)
    peak: int  # int8 MACs per cycle the core can issue at most


MLAL_FLAGS = ("-fno-schedule-insns",)
DOT_FLAGS = ("-march=armv8.2-a+dotprod", "-fno-schedule-insns")
KERNELS = (
    Kernel("qs8_gemm_4x16c4__neon_mlal", "qs8_gemm_4x16c4__neon_mlal", MLAL_FLAGS, "cortex-a72", 4 * 16 * 8, 8),
    Kernel("qs8_gemm_2x8__neon_mlal", "qs8_gemm_2x8__neon_mlal", MLAL_FLAGS, "cortex-a72", 2 * 8 * 16, 8),
    Kernel("qs8_gemm_2x8__neon_mlal", "qs8_gemm_2x8__neon_mlal.1row", MLAL_FLAGS, "cortex-a72", 1 * 8 * 16, 8),
    Kernel("qs8_gemm_4x16__neondot", "qs8_gemm_4x16__neondot", DOT_FLAGS, "cortex-a76", 4 * 16 * 16, 32),
    Kernel("qs8_gemm_4x16__neondot", "qs8_gemm_4x16__neondot.1row", DOT_FLAGS, "cortex-a76", 1 * 16 * 16, 32),
    # block-sparse: the loop over a column block's non-zero 16x4 k-groups (one group; four for the unrolled SDOT)
    Kernel("qs8_spgemm_4x16c4__neon_mlal", "qs8_spgemm_4x16c4__neon_mlal", MLAL_FLAGS, "cortex-a72", 4 * 16 * 4, 8),
    Kernel("qs8_spgemm_4x16c4__neondot", "qs8_spgemm_4x16c4__neondot", DOT_FLAGS, "cortex-a76", 4 * 4 * 16 * 4, 32),
)

_LABEL = re.compile(r"^(\.L\w+):")
_BRANCH = re.compile(r"^\s+(b[.a-z]*|cbn?z|tbn?z)\s+(?:[^,]+,\s*)*(\.L\w+)\s*$")


class McaError(RuntimeError):
    pass


def find_tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    versioned = sorted(
        (p for d in ("/usr/bin", "/usr/local/bin") for p in Path(d).glob(f"{names[0]}-[0-9]*")),
        key=lambda p: int(p.name.rsplit("-", 1)[1]) if p.name.rsplit("-", 1)[1].isdigit() else 0,
    )
    if versioned:
        return str(versioned[-1])
    raise McaError(f"{names[0]} not found on PATH; install Debian's packages with `bash .ci/system-deps.sh`")


def compile_to_asm(kernel: Kernel, out_dir: Path) -> str:
    source = KERNELS_DIR / f"{kernel.name}.c"
    asm = out_dir / f"{kernel.name}.s"
    cmd = [find_tool(CC), *BASE_FLAGS, *kernel.flags, str(source), "-o", str(asm)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise McaError(f"compiling {source.name} failed:\n{proc.stderr}")
    return asm.read_text()


def extract_loop(asm: str, name: str) -> list[str]:
    """Instructions of the loop that holds the `LLVM-MCA-BEGIN <name>` marker, label to back-branch."""
    lines = asm.splitlines()
    marker = re.compile(rf"LLVM-MCA-BEGIN {re.escape(name)}\s*$")
    begin = next((i for i, line in enumerate(lines) if marker.search(line)), None)
    if begin is None:
        raise McaError(f"no LLVM-MCA-BEGIN marker for {name} in the assembly (built without -DEL_MCA_MARKERS?)")
    start = next((i for i in range(begin, -1, -1) if _LABEL.match(lines[i])), None)
    if start is None:
        raise McaError(f"no loop label before the marker of {name}")
    label = _LABEL.match(lines[start]).group(1)
    end = next((i for i in range(begin, len(lines)) if (m := _BRANCH.match(lines[i])) and m.group(2) == label), None)
    if end is None:
        raise McaError(f"no branch back to {label} after the marker of {name}")
    body = []
    for line in lines[start + 1 : end + 1]:
        text = line.split("//")[0].rstrip()
        stripped = text.strip()
        if not stripped or stripped.startswith(("#", ".", "//")) or _LABEL.match(stripped):
            continue
        body.append(text)
    return body


def run_mca(loop: list[str], mcpu: str, iterations: int = 1000) -> tuple[float, str, str]:
    """Steady-state cycles per iteration, llvm-mca's summary, and the scheduling model it used."""
    mca = find_tool("llvm-mca")
    proc = subprocess.run(
        [mca, "-mtriple=aarch64-linux-gnu", f"-mcpu={mcpu}", f"-iterations={iterations}", "-resource-pressure"],
        input="\n".join(loop) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise McaError(f"llvm-mca failed for -mcpu={mcpu}:\n{proc.stderr}")
    cycles = re.search(r"Total Cycles:\s+(\d+)", proc.stdout)
    iters = re.search(r"Iterations:\s+(\d+)", proc.stdout)
    if not cycles or not iters:
        raise McaError(f"could not read llvm-mca's summary:\n{proc.stdout[:2000]}")
    summary = proc.stdout.split("\n\nInstruction Info:")[0].strip()
    # Resource names carry the model's prefix (e.g. "A57UnitL" -> Cortex-A57 model).
    unit = re.search(r"^\[\d+(?:\.\d+)?\]\s+-\s+(\w+?)Unit", proc.stdout, re.M)
    model = f"Cortex-{unit.group(1)}" if unit else "unknown"
    return int(cycles.group(1)) / int(iters.group(1)), summary, model


def estimate(kernel: Kernel, work: Path) -> dict:
    loop = extract_loop(compile_to_asm(kernel, work), kernel.loop)
    cycles, summary, model = run_mca(loop, kernel.mcpu)
    spills = sum(1 for line in loop if re.search(r"\[sp\b", line))
    return {
        "kernel": kernel.name,
        "loop_name": kernel.loop,
        "mcpu": kernel.mcpu,
        "mca_model": model,
        "instructions_per_iteration": len(loop),
        "stack_accesses_in_loop": spills,
        "cycles_per_iteration": round(cycles, 2),
        "macs_per_iteration": kernel.macs_per_iteration,
        "macs_per_cycle": round(kernel.macs_per_iteration / cycles, 2),
        "peak_macs_per_cycle": kernel.peak,
        "loop": loop,
        "mca_summary": summary,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-loop", action="store_true", help="print each extracted inner loop")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="edgelift-mca-") as tmp:
            results = [estimate(k, Path(tmp)) for k in KERNELS]
    except McaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "mca_summary"} for r in results], indent=2))
        return 0
    print("ESTIMATES (llvm-mca static analysis of the inner k loop; not measured on hardware)")
    print(f"{'kernel loop':<33}{'core (mca model)':<28}{'instr/iter':>11}{'cycles/iter':>13}{'MACs/iter':>11}"
          f"{'MACs/cycle':>12}{'peak':>6}")
    for r in results:
        core = f"{r['mcpu']} ({r['mca_model']})"
        print(f"{r['loop_name']:<33}{core:<28}{r['instructions_per_iteration']:>11}"
              f"{r['cycles_per_iteration']:>13.2f}{r['macs_per_iteration']:>11}{r['macs_per_cycle']:>12.2f}"
              f"{r['peak_macs_per_cycle']:>6}")
        if r["stack_accesses_in_loop"]:
            print(f"  warning: {r['stack_accesses_in_loop']} stack accesses in the loop (register spills)")
        if args.show_loop:
            print("\n".join(f"    {line.strip()}" for line in r["loop"]))
            print("\n".join(f"  | {line}" for line in r["mca_summary"].splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
