"""The 256-entry table lookup of the table-driven unary ops (kernels/x8_lut.h), each variant against a plain loop,
zero tolerance, every input value at every lane of a 16-wide step, sizes on the step's edges
(tests/neon/kernels/test_x8_lut.c): natively (the portable variant) and cross-built for aarch64 under qemu on
the Pi 4's and the Pi 5's cores (the NEON TBL variant too). The test proves it can fail: one flipped table entry
per call must be reported by every variant."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt


def _check(cmd: list[str], variants: set[str]) -> None:
    rc, out = kt.run(cmd)
    ran = kt.variants(out)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    assert set(ran) == variants and all(c > 0 and o > 0 and bad == 0 for c, o, bad in ran.values()), ran
    rc, out = kt.run([*cmd, "--corrupt"])
    ran = kt.variants(out)
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(ran[v][2] > 0 for v in variants), f"a flipped table entry went unnoticed: {ran}"
    assert re.search(r"^MISMATCH \S+ n \d+ \[\d+\] x -?\d+ expected -?\d+ got -?\d+$", out, re.M)


def test_portable_variant_exact_natively_and_the_test_can_fail(tmp_path):
    _check(kt.build("x8_lut", tmp_path), {"x8_lut__scalar"})


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_neon_variant_exact_and_the_test_can_fail(tmp_path, cpu):
    _check(kt.on(kt.build("x8_lut", tmp_path, aarch64=True), cpu), {"x8_lut__neon_tbl", "x8_lut__scalar"})
