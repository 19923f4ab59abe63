"""The int8 ADD / MUL microkernels (kernels/qs8_vbinary.h), each variant against a plain loop with the builtin's
rule for every element's code path (vector body or tail, elementwise or scalar broadcast), zero tolerance, over
all 65,536 int8 pairs and calls cut on the bodies' edges (tests/neon/kernels/test_qs8_vbinary.c): natively (the
AVX2 variant where CPUID reports AVX2, and the portable one) and cross-built for aarch64 under qemu on the
Pi 4's and the Pi 5's cores (the NEON variant too). The test proves it can fail: one flipped input bit per call
must be reported by every variant, and the parameter sets must tell each body's rounding from its tail's."""

from __future__ import annotations

import re

import pytest

from tests.neon import kernel_tester as kt

FUNCTIONS = {"add", "addc", "mul", "mulc"}


def _runs(out: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    return {(m.group(1), m.group(2)): tuple(map(int, m.groups()[2:]))
            for m in re.finditer(r"^RUN (\S+) (\S+) calls (\d+) outputs (\d+) mismatches (\d+)$", out, re.M)}


def _check_pass(rc: int, out: str, variants: set[str]) -> None:
    assert rc == 0 and "RESULT PASS" in out, out[-3000:]
    ran = _runs(out)
    assert set(ran) == {(v, f) for v in variants for f in FUNCTIONS}, ran
    # every function saw every pair at least once per parameter set (65,536 pairs x 5 ADD / 7 MUL sets)
    assert all(calls > 0 and outputs >= 5 * 65536 and bad == 0 for calls, outputs, bad in ran.values()), ran
    shifts = re.search(r"^MUL_SHIFTS left (\d+) none (\d+) right (\d+)$", out, re.M)
    assert shifts and all(int(k) > 0 for k in shifts.groups()), "each NEON MUL loop (shift > 0, 0, < 0) needs a set"
    differ = dict(re.findall(r"^PATHS (\S+) body_vs_tail_differ (\d+)$", out, re.M))
    assert set(differ) == FUNCTIONS and all(int(d) > 0 for d in differ.values()), differ


def _check_caught(rc: int, out: str, variants: set[str]) -> None:
    assert rc == 1 and "RESULT FAIL" in out, out[-3000:]
    ran = _runs(out)
    assert all(ran[(v, f)][2] > 0 for v in variants for f in FUNCTIONS), f"a flipped input went unnoticed: {ran}"
    assert re.search(r"^MISMATCH \S+ \S+ set \d+ n \d+ \[\d+\] a -?\d+ b -?\d+ expected -?\d+ got -?\d+$", out, re.M)


def test_avx2_and_portable_variants_exact_natively_and_the_test_can_fail(tmp_path):
    cmd = kt.build("qs8_vbinary", tmp_path)
    rc, out = kt.run(cmd)
    native = {"qs8_vbinary__scalar"} | (set() if "SKIP qs8_vbinary__avx2" in out else {"qs8_vbinary__avx2"})
    _check_pass(rc, out, native)
    _check_caught(*kt.run([*cmd, "--corrupt"]), native)


@pytest.fixture(scope="module")
def aarch64_exe(tmp_path_factory):
    return kt.build("qs8_vbinary", tmp_path_factory.mktemp("vbinary_aarch64"), aarch64=True)


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a72", "cortex-a76"])  # Pi 4, Pi 5
def test_aarch64_neon_variant_exact(aarch64_exe, cpu):
    _check_pass(*kt.run(kt.on(aarch64_exe, cpu)), {"qs8_vbinary__neon", "qs8_vbinary__scalar"})


@pytest.mark.qemu
def test_aarch64_a_wrong_neon_kernel_is_caught(aarch64_exe):
    _check_caught(*kt.run([*kt.on(aarch64_exe, "cortex-a72"), "--corrupt"]), {"qs8_vbinary__neon",
                                                                                "qs8_vbinary__scalar"})
