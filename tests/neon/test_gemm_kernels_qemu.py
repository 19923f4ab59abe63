"""The int8 GEMM microkernels, each variant against a plain integer loop, with zero tolerance.

Builds tests/neon/kernels/test_qs8_gemm.c with the kernel sources of delegates/neon/src and runs it:
- natively on x86-64: the AVX2 variant (3x8c8, VPMADDWD; chosen where CPUID reports AVX2) and the portable one;
- cross-compiled for aarch64 under `qemu-aarch64-static -cpu cortex-a72` (Raspberry Pi 4: no SDOT): the
  ARMv8.0 neon_mlal variants run (4x16c4, chosen, and 2x8), dispatch skips the dot-product variant, nothing
  raises SIGILL;
- under `-cpu cortex-a76` (the Pi 5's core, ARMv8.2 with SDOT) and `-cpu max`: the neondot variant runs too;
- with the undefined-behaviour sanitizer (trapping, so it links statically) under `-cpu max`.
It also checks the machine code: SDOT/UDOT appear only in the neondot object, and checks that the test
catches a wrong kernel (a flipped packed weight must be reported with its shape and accumulator).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.artefacts import missing

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "delegates" / "neon" / "src"
KERNELS = SRC / "kernels"
TEST_C = Path(__file__).resolve().parent / "kernels" / "test_qs8_gemm.c"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{KERNELS}", f"-I{SRC}"]
# Per-file flags on aarch64: the same as the marked SIMD section of delegates/neon/CMakeLists.txt.
AARCH64_FILE_FLAGS = {
    "qs8_gemm_4x16__neondot.c": ["-march=armv8.2-a+dotprod", "-fno-schedule-insns"],
    "qs8_gemm_2x8__neon_mlal.c": ["-fno-schedule-insns"],
    "qs8_gemm_4x16c4__neon_mlal.c": ["-fno-schedule-insns"],
    "qs8_spgemm_4x16c4__neondot.c": ["-march=armv8.2-a+dotprod", "-fno-schedule-insns"],
    "qs8_spgemm_4x16c4__neon_mlal.c": ["-fno-schedule-insns"],
}
MLAL = "qs8_gemm_2x8__neon_mlal"
C4 = "qs8_gemm_4x16c4__neon_mlal"  # the ARMv8.0 variant dispatch picks
DOT = "qs8_gemm_4x16__neondot"
AVX2 = "qs8_gemm_3x8c8__avx2"
EL_CPU_AVX2 = 1 << 3  # kernels/qs8_gemm.h
SPARSE_DOT = "qs8_spgemm_4x16c4__neondot"  # the block-sparse one (tests/neon/test_spgemm_kernels.py)


def _scalar_variant() -> str:
    """The portable variant's name (the core's file, named like its function: qs8_gemm_<tile>__scalar.c)."""
    names = [f.stem for f in KERNELS.glob("qs8_gemm_*__scalar.c")]
    assert len(names) == 1, f"expected one scalar GEMM variant in {KERNELS}, found {names}"
    return names[0]


SCALAR = _scalar_variant()
QEMU = "qemu-aarch64-static"
CROSS = "aarch64-linux-gnu-gcc"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: it comes from Debian's packages, run `bash .ci/system-deps.sh`")
    return path


def _sources() -> list[Path]:
    # Every kernel file on every architecture: the NEON files compile to nothing off aarch64.
    return sorted(KERNELS.glob("*.c")) + [SRC / "cpu_features.c"]


def _build(cc: str, out: Path, extra: list[str], link: list[str]) -> tuple[Path, dict[str, Path]]:
    out.mkdir(parents=True, exist_ok=True)
    objects: dict[str, Path] = {}
    for src in [*_sources(), TEST_C]:
        obj = out / (src.stem + ".o")
        per_file = AARCH64_FILE_FLAGS.get(src.name, []) if cc.endswith(CROSS) else []
        cmd = [cc, *CFLAGS, *extra, *per_file, "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stderr}"
        objects[src.stem] = obj
    exe = out / "test_qs8_gemm"
    proc = subprocess.run([cc, *extra, *objects.values(), "-o", str(exe), *link, "-lm"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return exe, objects


def _run(cmd: list[str], expect_rc: int = 0, timeout: int = 240) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    assert proc.returncode == expect_rc, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode} (expected {expect_rc}; -4 = SIGILL)\n"
        f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    )
    return proc.stdout


def _report(stdout: str) -> dict:
    ran = {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
           for m in re.finditer(r"^RUN (\S+) cases (\d+) outputs (\d+) mismatches (\d+)$", stdout, re.M)}
    skipped = set(re.findall(r"^SKIP (\S+) ", stdout, re.M))
    select = dict(re.findall(r"^select (\S+) -> (\S+)$", stdout, re.M))
    features = int(re.search(r"^features 0x([0-9a-f]+)$", stdout, re.M).group(1), 16)
    choose = {(shape, level): name for shape, level, name in re.findall(r"^choose (\S+) (\S+) -> (\S+)$", stdout, re.M)}
    return {"ran": ran, "skipped": skipped, "select": select, "features": features, "choose": choose}


# The per-layer tile choice (kernels/qs8_gemm_cost.h) on the shapes test_qs8_gemm.c asks about: on the Cortex-A72
# the deep batch-1 FULLY_CONNECTEDs take the 2x8 tile (one row: 8 independent accumulators, the meter's estimate
# 14% below the 4x16c4's at k = 1280), everything else the 4x16c4; with SDOT the 4x16 neondot, except for a
# shallow layer of 2 rows, whose rows the neondot variant runs one at a time (the 4x16c4 4% cheaper at k = 32).
CHOICE_SHAPES = ("1,1000,1280", "1,64,512", "2,32,32", "64,32,144", "3136,144,24")
NEON_CHOICE = dict(zip(CHOICE_SHAPES, (MLAL, MLAL, C4, C4, C4), strict=True))
DOT_CPU_CHOICE = dict(zip(CHOICE_SHAPES, (DOT, DOT, C4, DOT, DOT), strict=True))


def _assert_all_exact(rep: dict, stdout: str) -> None:
    assert "RESULT PASS" in stdout, stdout[-4000:]
    for name, (cases, outputs, bad) in rep["ran"].items():
        assert cases > 0 and outputs > 0, name
        assert bad == 0, f"{name}: {bad} mismatching outputs\n{stdout[-4000:]}"


@pytest.fixture(scope="module")
def aarch64_build(tmp_path_factory):
    cc = _tool(CROSS)
    return _build(cc, tmp_path_factory.mktemp("gemm_aarch64"), [], ["-static"])


def test_avx2_and_scalar_variants_native_x86(tmp_path):
    exe, _ = _build(_tool("gcc"), tmp_path, [], [])
    out = _run([str(exe)])
    rep = _report(out)
    _assert_all_exact(rep, out)
    has_avx2 = bool(rep["features"] & EL_CPU_AVX2)
    assert set(rep["ran"]) == ({AVX2, SCALAR} if has_avx2 else {SCALAR}), rep
    best = AVX2 if has_avx2 else SCALAR
    assert rep["select"] == {"auto": best, "avx2": AVX2 if has_avx2 else "none", "scalar": SCALAR, "neon": "none",
                             "dot": "none"}
    # no x86 variant is metered: every shape keeps the CPU's best (or the forced level's) variant
    for shape in CHOICE_SHAPES:
        assert {lvl: rep["choose"][(shape, lvl)] for lvl in rep["select"]} == rep["select"], shape


def test_a_wrong_avx2_kernel_is_caught(tmp_path):
    exe, _ = _build(_tool("gcc"), tmp_path, [], [])
    out = _run([str(exe), "--corrupt"], expect_rc=1)
    rep = _report(out)
    if not rep["features"] & EL_CPU_AVX2:
        pytest.skip("this CPU has no AVX2")
    assert rep["ran"][AVX2][2] > 0 and f"MISMATCH {AVX2}" in out, out[-3000:]


@pytest.mark.qemu
def test_pi4_cortex_a72_runs_neon_mlal_and_never_sdot(aarch64_build):
    exe, _ = aarch64_build
    out = _run([_tool(QEMU), "-cpu", "cortex-a72", str(exe)])
    rep = _report(out)
    _assert_all_exact(rep, out)
    assert rep["features"] == 0x1  # NEON, no dot product
    assert set(rep["ran"]) == {C4, MLAL, SCALAR}
    assert rep["skipped"] == {DOT}
    assert rep["select"] == {"auto": C4, "neon": C4, "dot": "none", "avx2": "none", "scalar": SCALAR}
    for shape, name in NEON_CHOICE.items():
        assert {lvl: rep["choose"][(shape, lvl)] for lvl in ("auto", "neon", "dot", "scalar")} == {
            "auto": name, "neon": name, "dot": "none", "scalar": SCALAR}, shape


@pytest.mark.qemu
@pytest.mark.parametrize("cpu", ["cortex-a76", "max"])  # the Pi 5's core, and qemu's everything-on CPU
def test_pi5_dotprod_cpu_runs_every_variant(aarch64_build, cpu):
    exe, _ = aarch64_build
    out = _run([_tool(QEMU), "-cpu", cpu, str(exe)])
    rep = _report(out)
    _assert_all_exact(rep, out)
    assert rep["features"] == 0x3
    assert set(rep["ran"]) == {DOT, C4, MLAL, SCALAR}
    assert not rep["skipped"]
    assert rep["select"] == {"auto": DOT, "neon": C4, "dot": DOT, "avx2": "none", "scalar": SCALAR}
    for shape, name in NEON_CHOICE.items():  # kernels=neon keeps to the ARMv8.0 variants, chosen as on a Pi 4
        assert {lvl: rep["choose"][(shape, lvl)] for lvl in ("auto", "neon", "dot", "scalar")} == {
            "auto": DOT_CPU_CHOICE[shape], "neon": name, "dot": DOT, "scalar": SCALAR}, shape
    # Every variant saw the same shapes.
    assert len({v[:2] for v in rep["ran"].values()}) == 1


@pytest.mark.qemu
def test_undefined_behaviour_sanitizer_aarch64(tmp_path):
    ubsan = ["-fsanitize=undefined", "-fsanitize-undefined-trap-on-error"]
    exe, _ = _build(_tool(CROSS), tmp_path, ubsan, ["-static"])
    out = _run([_tool(QEMU), "-cpu", "max", str(exe), "--quick"])
    rep = _report(out)
    _assert_all_exact(rep, out)
    assert set(rep["ran"]) == {DOT, C4, MLAL, SCALAR}


@pytest.mark.qemu
def test_only_the_dot_object_contains_sdot(aarch64_build):
    _, objects = aarch64_build
    objdump = _tool("aarch64-linux-gnu-objdump")
    dot_ops = re.compile(r"\t[su]dot\t")
    for stem, obj in objects.items():
        text = _run([objdump, "-d", str(obj)])
        n = len(dot_ops.findall(text))
        if stem.endswith("__neondot"):  # the dense and the block-sparse dot-product kernels
            assert n > 0, f"{stem}: a dot-product kernel should be built from SDOT"
        else:
            assert n == 0, f"{stem}.o contains {n} SDOT/UDOT instructions: Pi 4 (Cortex-A72) would SIGILL"


@pytest.mark.qemu
def test_a_wrong_kernel_is_caught_and_explained(aarch64_build):
    exe, _ = aarch64_build
    out = _run([_tool(QEMU), "-cpu", "max", str(exe), "--corrupt", "--quick"], expect_rc=1)
    assert "RESULT FAIL" in out
    rep = _report(out)
    for name in (DOT, C4, MLAL, SCALAR):
        assert rep["ran"][name][2] > 0, f"{name}: a corrupted packed weight went unnoticed"
    line = re.search(r"^MISMATCH .*$", out, re.M).group(0)
    for field in ("m=", "n=", "k=", "a_zp=", "out_zp=", "expected", "got", "acc", "multiplier", "shift"):
        assert field in line, line


@pytest.mark.qemu
def test_cross_built_delegate_confines_sdot_to_the_dot_kernel():
    """The library that goes to a Pi (CMake cross build): SDOT only inside the dot-product variant."""
    from edgelift.delegates import neon
    from edgelift.errors import DelegateError

    try:
        lib = neon.library_path("aarch64")
    except DelegateError as exc:
        missing(f"the aarch64 delegate ({exc})", "`make native` builds it")
    text = _run([_tool("aarch64-linux-gnu-objdump"), "-d", str(lib)])
    found: dict[str, int] = {}
    function = "?"
    for line in text.splitlines():
        if m := re.match(r"^[0-9a-f]+ <(.+)>:$", line):
            function = m.group(1)
        elif re.search(r"\t[su]dot\t", line):
            found[function] = found.get(function, 0) + 1
    assert found, f"{lib} has no SDOT at all: the dot-product variant is missing from the aarch64 build"
    outside = {f: n for f, n in found.items() if not f.startswith((DOT, SPARSE_DOT))}
    assert not outside, f"SDOT/UDOT outside {DOT} in {lib}: {outside} (a Pi 4 could SIGILL)"


def test_llvm_mca_estimates_of_the_inner_loops():
    """benchmarks/neon_mca.py runs and its (static, deterministic) estimates stay near the cores' peaks.

    Not a timing: llvm-mca models the loop the cross compiler emits; a drop below the target means the
    loop changed shape (e.g. accumulators spilled to the stack), which is a code-generation regression."""
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "neon_mca.py"), "--json"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = {r["loop_name"]: r for r in json.loads(proc.stdout)}
    sp_mlal, sp_dot = "qs8_spgemm_4x16c4__neon_mlal", "qs8_spgemm_4x16c4__neondot"
    assert set(results) == {C4, MLAL, MLAL + ".1row", DOT, DOT + ".1row", sp_mlal, sp_dot}
    for name, r in results.items():
        assert r["stack_accesses_in_loop"] == 0, f"{name}: register spills in the inner loop\n{r['loop']}"
        assert 0 < r["macs_per_cycle"] <= r["peak_macs_per_cycle"] + 0.01, r
        assert r["mcpu"] == ("cortex-a72" if "neon_mlal" in name else "cortex-a76"), r
    # The target on Cortex-A72 (peak 8), for the full tile and the batch-1 (1-row) loop.
    assert results[MLAL]["macs_per_cycle"] >= 6.0, results[MLAL]
    assert results[MLAL + ".1row"]["macs_per_cycle"] >= 6.0, results[MLAL + ".1row"]
    assert results[C4]["macs_per_cycle"] >= 7.5, results[C4]  # the 4-row loop keeps the multiplier busy
    assert results[DOT]["macs_per_cycle"] >= 24.0, results[DOT]  # 3/4 of the Cortex-A76 peak (32)
    # the block-sparse loops over non-zero k-groups: an index load and an A load per group, still near the peaks
    assert results[sp_mlal]["macs_per_cycle"] >= 7.5, results[sp_mlal]
    assert results[sp_dot]["macs_per_cycle"] >= 24.0, results[sp_dot]
    for name in (C4, MLAL, MLAL + ".1row", sp_mlal):
        assert not any(re.search(r"\b[su]dot\b", line) for line in results[name]["loop"]), name
