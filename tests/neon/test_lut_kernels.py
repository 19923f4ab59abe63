"""The 256-entry table lookup of the table-driven unary ops (kernels/x8_lut.h), each variant against a plain loop,
zero tolerance, every input value at every lane of a 16-wide step, sizes on the step's edges
(tests/neon/kernels/test_x8_lut.c): natively (the portable variant) and cross-built for aarch64 under qemu on
the Pi 4's and the Pi 5's cores (the NEON TBL variant too). The test proves it can fail: one flipped table entry
per call must be reported by every variant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "delegates" / "neon" / "src" / "kernels"
TEST_C = Path(__file__).resolve().parent / "kernels" / "test_x8_lut.c"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}"]


def _build(cc: str, out: Path, link: list[str]) -> Path:
    exe = out / "test_x8_lut"
    sources = [*sorted(KERNELS.glob("x8_lut*.c")), TEST_C]
    proc = subprocess.run([cc, *CFLAGS, *map(str, sources), "-o", str(exe), *link], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return exe


def _run(cmd: list[str]) -> tuple[int, str, dict[str, tuple[int, int, int]]]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    out = proc.stdout + proc.stderr
    ran = {m.group(1): tuple(map(int, m.groups()[1:]))
           for m in re.finditer(r"^RUN (\S+) calls (\d+) outputs (\d+) mismatches (\d+)$", out, re.M)}
    return proc.returncode, out, ran


def _check(cmd: list[str], variants: set[str]) -> None:
    rc, out, ran = _run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    assert set(ran) == variants and all(c > 0 and o > 0 and bad == 0 for c, o, bad in ran.values()), ran
    rc, out, ran = _run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(ran[v][2] > 0 for v in variants), f"a flipped table entry went unnoticed: {ran}"
    assert re.search(r"^MISMATCH \S+ n \d+ \[\d+\] x -?\d+ expected -?\d+ got -?\d+$", out, re.M)


def test_portable_variant_exact_natively_and_the_test_can_fail(tmp_path):
    _check([str(_build(shutil.which("gcc") or "gcc", tmp_path, []))], {"x8_lut__scalar"})


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_neon_variant_exact_and_the_test_can_fail(tmp_path, cpu):
    cc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64-static")
    if cc is None or qemu is None:
        pytest.fail("aarch64-linux-gnu-gcc / qemu-aarch64-static missing: run `bash .ci/system-deps.sh`")
    _check([qemu, "-cpu", cpu, str(_build(cc, tmp_path, ["-static"]))], {"x8_lut__neon_tbl", "x8_lut__scalar"})
