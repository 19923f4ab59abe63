"""Run-time dispatch on x86-64 CPUs with and without AVX2: the kernel testers (tests/neon/kernels/) run under
qemu-x86_64 as a Westmere (SSE4.1, no AVX2) and as a Haswell (AVX2). Without AVX2 every AVX2 variant is skipped
by CPUID (no SIGILL) and the portable ones run exact; with it the AVX2 variants run and are chosen. The library
is one build for both: each AVX2 function carries target("avx2"), nothing is built with -mavx2."""

from __future__ import annotations

import platform
import re
import shutil

import pytest

from tests.neon import kernel_tester as kt

pytestmark = pytest.mark.qemu

CPUS = {"Westmere": False, "Haswell": True}  # qemu CPU model -> has AVX2
FAMILIES = {  # tester -> (its AVX2 variant, its portable one, extra arguments)
    "qs8_gemm": ("qs8_gemm_3x8c8__avx2", "qs8_gemm_2x4__scalar", ["--quick"]),
    "qs8_dwconv": ("qs8_dwconv_16c__avx2", "qs8_dwconv_16c__scalar", []),
}
RUN = re.compile(r"^RUN (\S+) ", re.M)


@pytest.fixture(scope="module")
def qemu_x86():
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the x86-64 kernels are built on x86-64 hosts only")
    path = shutil.which("qemu-x86_64")
    if path is None:
        pytest.fail("qemu-x86_64 is missing: it comes with Debian's qemu-user, run `bash .ci/system-deps.sh`")
    return path


@pytest.mark.parametrize("cpu", sorted(CPUS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_avx2_variants_run_only_where_cpuid_reports_avx2(qemu_x86, tmp_path, family, cpu):
    avx2, portable, extra = FAMILIES[family]
    exe = kt.build(family, tmp_path)
    rc, out = kt.run([qemu_x86, "-cpu", cpu, *exe, *extra])
    assert rc == 0 and "RESULT PASS" in out, f"exit {rc} (-4 = SIGILL)\n{out[-3000:]}"
    ran = set(RUN.findall(out))
    assert ran == ({avx2, portable} if CPUS[cpu] else {portable}), out[-3000:]
    if not CPUS[cpu]:
        assert f"SKIP {avx2}" in out
    if family == "qs8_gemm":
        chosen = re.search(r"^select auto -> (\S+)$", out, re.M).group(1)
        assert chosen == (avx2 if CPUS[cpu] else portable)
