"""The int8 depthwise microkernels, each variant against a plain integer loop with LiteRT's per-channel
rounding, zero tolerance (tests/neon/kernels/test_qs8_dwconv.c): natively (the AVX2 variant where CPUID reports
AVX2, and the portable one), and
cross-built for aarch64 under qemu on the Pi 4's and the Pi 5's cores (the NEON 3x3, 5x5 and any-size variants
too, and which variant a node of each kind gets). The test proves it can fail: a flipped weight in the
kernel's copy must be reported by every variant."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt

NEON = ("qs8_dwconv_3x3_16c__neon_mlal", "qs8_dwconv_5x5_16c__neon_mlal", "qs8_dwconv_kxk_16c__neon_mlal")
SCALAR = "qs8_dwconv_16c__scalar"
AVX2 = "qs8_dwconv_16c__avx2"


def test_every_variant_exact_natively_and_the_test_can_fail(tmp_path):
    cmd = kt.build("qs8_dwconv", tmp_path)
    rc, out = kt.run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = kt.variants(out)
    assert "qs8_dwconv_16c__scalar" in ran
    assert all(cases > 0 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    has_avx2 = f"SKIP {AVX2}" not in out
    assert set(ran) == ({AVX2, SCALAR} if has_avx2 else {SCALAR}), ran
    chosen = dict(re.findall(r"^CHOOSE (\S+) -> (\S+)$", out, re.M))
    best = AVX2 if has_avx2 else SCALAR  # depth multiplier 1, any size and weight; not a grouped conv's rounding
    assert chosen == {"3x3": best, "5x5": best, "7x7": best, "3x3_multiplier2": SCALAR, "3x3_weight-128": best,
                      "7x7_grouped_conv": SCALAR}, chosen
    rc, out = kt.run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out and f"MISMATCH {best}" in out, out[-3000:]  # lines of the first only
    assert all(bad > 0 for _, _, bad in kt.variants(out).values()), kt.variants(out)
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


@pytest.fixture(scope="module")
def aarch64_exe(tmp_path_factory):
    return kt.build("qs8_dwconv", tmp_path_factory.mktemp("dwconv_aarch64"), aarch64=True)


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_every_variant_exact_and_chosen_by_shape(aarch64_exe, cpu):
    rc, out = kt.run(kt.on(aarch64_exe, cpu))
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = kt.variants(out)
    assert set(ran) == {*NEON, SCALAR}, ran
    assert all(cases > 0 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    # the scalar variant takes every case; each NEON one only its own (multiplier 1, its filter, no -128 weight)
    assert all(ran[name][0] < ran[SCALAR][0] for name in NEON), ran
    chosen = dict(re.findall(r"^CHOOSE (\S+) -> (\S+)$", out, re.M))
    assert chosen == {"3x3": NEON[0], "5x5": NEON[1], "7x7": NEON[2], "3x3_multiplier2": SCALAR,
                      "3x3_weight-128": SCALAR, "7x7_grouped_conv": NEON[2]}, chosen


@pytest.mark.qemu
def test_aarch64_a_wrong_neon_kernel_is_caught(aarch64_exe):
    rc, out = kt.run([*kt.on(aarch64_exe, "cortex-a72"), "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    ran = kt.variants(out)
    assert all(ran[name][2] > 0 for name in (*NEON, SCALAR)), f"a corrupted weight went unnoticed: {ran}"
