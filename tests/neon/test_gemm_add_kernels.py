"""The residual ADD fused into every GEMM variant's epilogue (kernels/qs8_gemm_add.h), zero tolerance
(tests/neon/kernels/test_qs8_gemm_add.c): all 65,536 (conv, residual) int8 pairs through each variant against
the scalar rule, and random GEMMs on the tiles' edges fused against the same GEMM followed by every ADD variant;
natively (AVX2 where CPUID has it, and the portable variant) and cross-built for aarch64 under qemu on the Pi 4's
core (the two neon_mlal variants) and the Pi 5's (the neondot one too). The test proves it can fail: an ADD
zero point off by one in the fused call must be reported by every variant."""

from __future__ import annotations

import pytest

from tests.neon import kernel_tester as kt
from tests.neon.test_gemm_kernels_qemu import AARCH64_FILE_FLAGS

ALL_KERNELS = tuple(sorted(kt.KERNELS.glob("*.c")))  # the GEMM variants and the ADD variants they are held to
SCALAR, AVX2 = "qs8_gemm_2x4__scalar", "qs8_gemm_3x8c8__avx2"
MLAL = {"qs8_gemm_4x16c4__neon_mlal", "qs8_gemm_2x8__neon_mlal"}
DOT = "qs8_gemm_4x16__neondot"


def _check(rc: int, out: str, expected: set[str], corrupt: bool) -> None:
    ran = kt.variants(out)
    assert set(ran) == expected, out[-3000:]
    # 5 parameter sets x 65,536 exhaustive pairs at least, per variant
    assert all(cases > 0 and outputs >= 5 * 65536 for cases, outputs, _ in ran.values()), ran
    if corrupt:
        assert rc == 1 and "RESULT FAIL" in out and all(bad > 0 for _, _, bad in ran.values()), out[-3000:]
        assert "MISMATCH" in out
    else:
        assert rc == 0 and "RESULT PASS" in out and all(bad == 0 for _, _, bad in ran.values()), out[-3000:]


def test_native_variants_exact_and_the_test_can_fail(tmp_path):
    cmd = kt.build("qs8_gemm_add", tmp_path, extra_sources=ALL_KERNELS)
    rc, out = kt.run(cmd)
    native = {SCALAR} | (set() if f"SKIP {AVX2}" in out else {AVX2})
    _check(rc, out, native, corrupt=False)
    _check(*kt.run([*cmd, "--corrupt"]), native, corrupt=True)


@pytest.fixture(scope="module")
def aarch64_exe(tmp_path_factory):
    return kt.build("qs8_gemm_add", tmp_path_factory.mktemp("gemm_add_aarch64"), aarch64=True,
                    extra_sources=ALL_KERNELS, aarch64_file_flags=AARCH64_FILE_FLAGS)


@pytest.mark.qemu
@pytest.mark.parametrize("cpu,expected", [("cortex-a72", {SCALAR, *MLAL}), ("cortex-a76", {SCALAR, *MLAL, DOT})])
def test_aarch64_neon_epilogues_exact(aarch64_exe, cpu, expected):
    _check(*kt.run(kt.on(aarch64_exe, cpu)), expected, corrupt=False)
    _check(*kt.run([*kt.on(aarch64_exe, cpu), "--corrupt"]), expected, corrupt=True)
