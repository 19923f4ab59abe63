"""The int8 transposed-convolution microkernels against TFLite's scatter formulation with the builtin's
per-channel rounding, zero tolerance (tests/neon/kernels/test_qs8_tconv.c): natively (the portable variant)
and cross-built for aarch64 under qemu on the Pi 4's and the Pi 5's cores (the NEON variant too). The test
proves it can fail: a flipped weight in the kernel's copy must be reported by every variant."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt

SCALAR = "qs8_tconv_16c__scalar"
NEON = "qs8_tconv_16c__neon_mlal"


def _assert_exact_and_can_fail(cmd: list[str], variants: set[str]) -> None:
    rc, out = kt.run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = kt.variants(out)
    assert set(ran) == variants, ran
    assert all(cases > 500 and outputs > 100_000 and bad == 0 for cases, outputs, bad in ran.values()), ran
    rc, out = kt.run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(bad > 0 for _, _, bad in kt.variants(out).values()), out[-3000:]
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


def test_every_variant_exact_natively_and_the_test_can_fail(tmp_path):
    _assert_exact_and_can_fail(kt.build("qs8_tconv", tmp_path), {SCALAR})


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_every_variant_exact_and_the_test_can_fail(tmp_path, cpu):
    _assert_exact_and_can_fail(kt.on(kt.build("qs8_tconv", tmp_path, aarch64=True), cpu), {NEON, SCALAR})
