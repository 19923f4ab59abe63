"""The int8 transposed-convolution microkernels against TFLite's scatter formulation with the builtin's
per-channel rounding, zero tolerance (tests/neon/kernels/test_qs8_tconv.c): natively (the portable variant)
and cross-built for aarch64 under qemu on the Pi 4's and the Pi 5's cores (the NEON variant too). The test
proves it can fail: a flipped weight in the kernel's copy must be reported by every variant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
TEST_C = Path(__file__).resolve().parent / "kernels" / "test_qs8_tconv.c"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}", f"-I{SRC}"]
SCALAR = "qs8_tconv_16c__scalar"
NEON = "qs8_tconv_16c__neon_mlal"


def _build(cc: str, out: Path, link: list[str]) -> Path:
    exe = out / "test_qs8_tconv"
    sources = [*sorted(KERNELS.glob("qs8_tconv*.c")), TEST_C]
    proc = subprocess.run([cc, *CFLAGS, *map(str, sources), "-o", str(exe), *link, "-lm"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return exe


def _run(cmd: list[str]) -> tuple[int, str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def _variants(out: str) -> dict[str, tuple[int, int, int]]:
    return {m.group(1): tuple(map(int, m.groups()[1:]))
            for m in re.finditer(r"^RUN (\S+) cases (\d+) outputs (\d+) mismatches (\d+)$", out, re.M)}


def _assert_exact_and_can_fail(cmd: list[str], variants: set[str]) -> None:
    rc, out = _run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = _variants(out)
    assert set(ran) == variants, ran
    assert all(cases > 500 and outputs > 100_000 and bad == 0 for cases, outputs, bad in ran.values()), ran
    rc, out = _run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(bad > 0 for _, _, bad in _variants(out).values()), out[-3000:]
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


def test_every_variant_exact_natively_and_the_test_can_fail(tmp_path):
    _assert_exact_and_can_fail([str(_build(shutil.which("gcc") or "gcc", tmp_path, []))], {SCALAR})


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_every_variant_exact_and_the_test_can_fail(tmp_path, cpu):
    cc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64-static")
    if cc is None or qemu is None:
        pytest.fail("aarch64-linux-gnu-gcc / qemu-aarch64-static missing: run `bash .ci/system-deps.sh`")
    _assert_exact_and_can_fail([qemu, "-cpu", cpu, str(_build(cc, tmp_path, ["-static"]))], {NEON, SCALAR})
