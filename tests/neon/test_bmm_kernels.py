"""The BATCH_MATMUL kernels (the tiled variants and their 1x1 reference twin) and their shared RHS packing, against
a plain integer loop with both zero points and LiteRT's double rounding, zero tolerance
(tests/neon/kernels/test_qs8_bmm.c): natively (the portable variants), and cross-built for aarch64 under qemu
(the Pi 4's core: the NEON variant too). The test proves it can fail: a flipped packed RHS value must be
reported by every variant."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt

PORTABLE = {"qs8_bmm_4x4__scalar", "qs8_bmm_1x1__scalar"}


def _check(cmd: list[str], variants: set[str]) -> None:
    rc, out = kt.run(cmd)
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = kt.variants(out)
    assert set(ran) == variants, ran
    assert all(cases == 729 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    rc, out = kt.run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    assert all(bad > 0 for _, _, bad in kt.variants(out).values()), f"a corrupted RHS went unnoticed: {out[-2000:]}"
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


def test_portable_variants_exact_natively_and_the_test_can_fail(tmp_path):
    _check(kt.build("qs8_bmm", tmp_path), PORTABLE)


@pytest.mark.qemu
def test_every_variant_exact_on_aarch64(tmp_path):
    _check(kt.on(kt.build("qs8_bmm", tmp_path, aarch64=True), "cortex-a72"), {*PORTABLE, "qs8_bmm_4x4__neon_mlal"})
