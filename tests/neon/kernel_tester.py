"""Builds and runs the C kernel testers of tests/neon/kernels/ (each checks a microkernel family against a
plain-loop oracle and prints `RUN <variant> cases N outputs N mismatches N` lines, then `RESULT PASS|FAIL`):
natively with gcc, or cross-built static for aarch64 and run under qemu-user on a chosen core. One place for
the compiler flags, the tool lookup and the output format the testers share."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.artefacts import missing

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
TESTERS = Path(__file__).resolve().parent / "kernels"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}", f"-I{SRC}"]
RUN_LINE = re.compile(r"^RUN (\S+) (?:cases|calls) (\d+) outputs (\d+) mismatches (\d+)$", re.M)


def build(family: str, out: Path, *, aarch64: bool = False, extra_sources: tuple[Path, ...] = (),
          aarch64_file_flags: dict[str, list[str]] | None = None) -> list[str]:
    """Compile tests/neon/kernels/test_<family>.c with every delegates/neon/src/kernels/<family>*.c (plus
    `extra_sources`); returns the command that runs it (under qemu-aarch64-static when cross-built; add
    ["-cpu", core] via `on`). `aarch64_file_flags`: per-file flags of a cross build (file name -> flags), as the
    SIMD section of delegates/neon/CMakeLists.txt gives them."""
    if aarch64:
        cc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64-static")
        if cc is None or qemu is None:
            missing("aarch64-linux-gnu-gcc / qemu-aarch64-static", "`make system-deps` (.ci/system-deps.sh)")
    else:
        cc, qemu = shutil.which("gcc") or "gcc", None
    exe = out / f"test_{family}{'-aarch64' if aarch64 else ''}"
    # cpu_features.c: testers skip the variants the CPU they run on lacks (el_cpu_features, CPUID / AT_HWCAP)
    common = SRC / "cpu_features.c"
    sources = [*sorted(KERNELS.glob(f"{family}*.c")), common, *(s for s in extra_sources if s != common),
               TESTERS / f"test_{family}.c"]
    flags = (aarch64_file_flags or {}) if aarch64 else {}
    if flags:  # one object per source, each with its own flags
        objects = []
        for src in sources:
            obj = out / f"{src.stem}{'-aarch64' if aarch64 else ''}.o"
            proc = subprocess.run([cc, *CFLAGS, *flags.get(src.name, []), "-c", str(src), "-o", str(obj)],
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
            objects.append(obj)
        sources = objects
    proc = subprocess.run([cc, *CFLAGS, *map(str, sources), "-o", str(exe), *(["-static"] if aarch64 else []),
                           "-lm"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return [qemu, str(exe)] if aarch64 else [str(exe)]


def on(cmd: list[str], cpu: str) -> list[str]:
    """`cmd` (a cross-built tester under qemu) on the core `cpu` (cortex-a72: Pi 4, cortex-a76: Pi 5)."""
    return [cmd[0], "-cpu", cpu, *cmd[1:]]


def run(cmd: list[str], timeout: float = 300) -> tuple[int, str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


def variants(out: str) -> dict[str, tuple[int, int, int]]:
    """variant -> (cases or calls, outputs, mismatches) from a tester's RUN lines."""
    return {m.group(1): tuple(map(int, m.groups()[1:])) for m in RUN_LINE.finditer(out)}
