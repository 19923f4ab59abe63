"""The BATCH_MATMUL kernels (the tiled variants and their 1x1 reference twin) and their shared RHS packing, against
a plain integer loop with both zero points and LiteRT's double rounding, zero tolerance
(tests/neon/kernels/test_qs8_bmm.c): natively (the portable variants), and cross-built for aarch64 under qemu
(the Pi 4's core: the NEON variant too). The test proves it can fail: a flipped packed RHS value must be
reported by every variant."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
TEST_C = Path(__file__).resolve().parent / "kernels" / "test_qs8_bmm.c"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}", f"-I{SRC}"]
PORTABLE = {"qs8_bmm_4x4__scalar", "qs8_bmm_1x1__scalar"}


def _build(cc: str, out: Path, link: list[str]) -> Path:
    exe = out / "test_qs8_bmm"
    sources = [*sorted(KERNELS.glob("qs8_bmm*.c")), TEST_C]
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


def _check(cmd: list[str], variants: set[str]) -> None:
    rc, out = _run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = _variants(out)
    assert set(ran) == variants, ran
    assert all(cases == 729 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    rc, out = _run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(bad > 0 for _, _, bad in _variants(out).values()), f"a corrupted RHS went unnoticed: {out[-2000:]}"
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


def test_portable_variants_exact_natively_and_the_test_can_fail(tmp_path):
    _check([str(_build(shutil.which("gcc") or "gcc", tmp_path, []))], PORTABLE)


@pytest.mark.qemu
def test_every_variant_exact_on_aarch64(tmp_path):
    cc, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64-static")
    if cc is None or qemu is None:
        pytest.fail("aarch64-linux-gnu-gcc / qemu-aarch64-static missing: run `bash .ci/system-deps.sh`")
    _check([qemu, "-cpu", "cortex-a72", str(_build(cc, tmp_path, ["-static"]))], {*PORTABLE, "qs8_bmm_4x4__neon_mlal"})
