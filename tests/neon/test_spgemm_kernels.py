"""The block-sparse int8 GEMM microkernels (delegates/neon/src/kernels/qs8_spgemm_*), each variant against a plain
integer loop over the dense weights, zero tolerance (tests/neon/kernels/test_qs8_spgemm.c): natively (the
portable variant), and cross-built for aarch64 under qemu on the Pi 4's and the Pi 5's cores (the NEON and
dot-product variants too; SDOT only where the CPU has it). Weights are zeroed in 16x4, 1x4 and 4x4 blocks and
unstructured, at densities 0 to 1; the test proves it can fail (a changed packed weight must be reported)."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt

SCALAR = "qs8_spgemm_1x16c4__scalar"
AVX2 = "qs8_spgemm_4x16c4__avx2"
NEON = "qs8_spgemm_4x16c4__neon_mlal"
DOT = "qs8_spgemm_4x16c4__neondot"
EXTRA = (kt.SRC / "cpu_features.c", kt.KERNELS / "qs8_gemm_level.c")  # the `kernels=` levels select() goes by
FLAGS = {f"{DOT}.c": ["-march=armv8.2-a+dotprod", "-fno-schedule-insns"], f"{NEON}.c": ["-fno-schedule-insns"]}


def _exact(out: str) -> dict[str, tuple[int, int, int]]:
    assert "RESULT PASS" in out, out[-3000:]
    ran = kt.variants(out)
    assert all(cases > 0 and outputs > 0 and bad == 0 for cases, outputs, bad in ran.values()), ran
    return ran


def _selected(out: str) -> dict[str, str]:
    return dict(re.findall(r"^select (\S+) -> (\S+)$", out, re.M))


def test_native_variants_exact_and_the_test_can_fail(tmp_path):
    cmd = kt.build("qs8_spgemm", tmp_path, extra_sources=EXTRA)
    rc, out = kt.run(cmd)
    assert rc == 0, out[-3000:]
    avx2 = f"SKIP {AVX2} " not in out  # CPUID decides; every x86-64 CI machine here has AVX2
    assert set(_exact(out)) == ({AVX2, SCALAR} if avx2 else {SCALAR})
    assert _selected(out) == {"auto": AVX2 if avx2 else SCALAR, "scalar": SCALAR, "neon": "none", "dot": "none",
                              "avx2": AVX2 if avx2 else "none"}
    # the sparse layout keeps only non-zero blocks: the sparsest cases use a small part of the dense bound
    used, bound = map(int, re.search(rf"^DENSITY {SCALAR} (\d+) of (\d+)$", out, re.M).groups())
    assert used < bound / 4, (used, bound)
    rc, out = kt.run([*cmd, "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out and f"MISMATCH {SCALAR}" in out, out[-3000:]
    assert not avx2 or f"MISMATCH {AVX2}" in out, out[-3000:]
    assert re.search(r"expected -?\d+ got -?\d+ acc -?\d+", out)


@pytest.fixture(scope="module")
def aarch64_exe(tmp_path_factory):
    return kt.build("qs8_spgemm", tmp_path_factory.mktemp("spgemm_aarch64"), aarch64=True, extra_sources=EXTRA,
                    aarch64_file_flags=FLAGS)


@pytest.mark.qemu
def test_pi4_runs_the_neon_variant_and_never_sdot(aarch64_exe):
    rc, out = kt.run(kt.on(aarch64_exe, "cortex-a72"))
    assert rc == 0, out[-3000:]  # an SDOT would be SIGILL here
    assert set(_exact(out)) == {NEON, SCALAR}
    assert f"SKIP {DOT} " in out
    assert _selected(out) == {"auto": NEON, "neon": NEON, "dot": "none", "avx2": "none", "scalar": SCALAR}


@pytest.mark.qemu
def test_pi5_runs_every_variant(aarch64_exe):
    rc, out = kt.run(kt.on(aarch64_exe, "cortex-a76"))
    assert rc == 0, out[-3000:]
    ran = _exact(out)
    assert set(ran) == {DOT, NEON, SCALAR}
    assert ran[DOT][:2] == ran[SCALAR][:2], "the dot variant saw every case"
    assert ran[NEON][0] < ran[SCALAR][0], "the ARMv8.0 variant skips the cases with -128 weights (kernel choice)"
    assert _selected(out) == {"auto": DOT, "neon": NEON, "dot": DOT, "avx2": "none", "scalar": SCALAR}


@pytest.mark.qemu
def test_aarch64_a_wrong_sparse_kernel_is_caught(aarch64_exe):
    rc, out = kt.run([*kt.on(aarch64_exe, "cortex-a76"), "--corrupt"])
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    ran = kt.variants(out)
    assert all(ran[name][2] > 0 for name in (DOT, NEON, SCALAR)), f"a changed weight went unnoticed: {ran}"
