"""The int8 depthwise microkernels, each variant against a plain integer loop with LiteRT's per-channel
rounding, zero tolerance (tests/neon/kernels/test_qs8_dwconv.c): natively (the portable variant), and
cross-built for aarch64 under qemu on the Pi 4's and the Pi 5's cores (the NEON 3x3, 5x5 and any-size variants
too, and which variant a node of each kind gets). The test proves it can fail: a flipped weight in the
kernel's copy must be reported by every variant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
TEST_C = Path(__file__).resolve().parent / "kernels" / "test_qs8_dwconv.c"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}", f"-I{SRC}"]


NEON = ("qs8_dwconv_3x3_16c__neon_mlal", "qs8_dwconv_5x5_16c__neon_mlal", "qs8_dwconv_kxk_16c__neon_mlal")
SCALAR = "qs8_dwconv_16c__scalar"


def _build(cc: str, out: Path, link: list[str]) -> Path:
    exe = out / "test_qs8_dwconv"
    sources = [*sorted(KERNELS.glob("qs8_dwconv*.c")), TEST_C]
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


def test_every_variant_exact_natively_and_the_test_can_fail(tmp_path):
    exe = _build(shutil.which("gcc") or "gcc", tmp_path, [])
    rc, out = _run([str(exe)])
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = _variants(out)
    assert "qs8_dwconv_16c__scalar" in ran
    assert all(cases > 0 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    assert set(ran) == {SCALAR}, "only the portable variant is compiled for x86-64"
    rc, out = _run([str(exe), "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out and "MISMATCH qs8_dwconv_16c__scalar" in out, out[-3000:]
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


@pytest.fixture(scope="module")
def aarch64_exe(tmp_path_factory):
    cc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64-static")
    if cc is None or qemu is None:
        pytest.fail("aarch64-linux-gnu-gcc / qemu-aarch64-static missing: run `bash .ci/system-deps.sh`")
    return qemu, _build(cc, tmp_path_factory.mktemp("dwconv_aarch64"), ["-static"])


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_every_variant_exact_and_chosen_by_shape(aarch64_exe, cpu):
    qemu, exe = aarch64_exe
    rc, out = _run([qemu, "-cpu", cpu, str(exe)])
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = _variants(out)
    assert set(ran) == {*NEON, SCALAR}, ran
    assert all(cases > 0 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    # the scalar variant takes every case; each NEON one only its own (multiplier 1, its filter, no -128 weight)
    assert all(ran[name][0] < ran[SCALAR][0] for name in NEON), ran
    chosen = dict(re.findall(r"^CHOOSE (\S+) -> (\S+)$", out, re.M))
    assert chosen == {"3x3": NEON[0], "5x5": NEON[1], "7x7": NEON[2], "3x3_multiplier2": SCALAR,
                      "3x3_weight-128": SCALAR, "7x7_grouped_conv": NEON[2]}, chosen


@pytest.mark.qemu
def test_aarch64_a_wrong_neon_kernel_is_caught(aarch64_exe):
    qemu, exe = aarch64_exe
    rc, out = _run([qemu, "-cpu", "cortex-a72", str(exe), "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    ran = _variants(out)
    assert all(ran[name][2] > 0 for name in (*NEON, SCALAR)), f"a corrupted weight went unnoticed: {ran}"
