"""The cross-built NEON delegate on the emulated Raspberry Pi: every kernel variant, Pi 4 and Pi 5 CPUs.

Reference: the same models and inputs through x86-64 LiteRT 2.3 with BUILTIN_WITHOUT_DEFAULT_DELEGATES; every
output must be identical. `-cpu cortex-a72` (Pi 4) has no SDOT: running `auto` there without SIGILL proves the
dot-product kernels are never chosen on a Pi 4, and forcing `dot` must be refused cleanly. `-cpu max` has the
ARMv8.2 dot-product extension (Pi 5 path).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.artefacts import missing
from tests.emulated_pi.conftest import assert_identical
from tests.emulated_pi.pi import CPUS

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

VARIANTS = {"pi4": ("auto", "scalar", "neon"), "pi5": ("auto", "scalar", "neon", "dot")}
PARTITION_LINE = re.compile(r"(\d+) of (\d+) nodes delegated in (\d+) partitions?")
EM_AARCH64 = 183


@pytest.fixture(scope="session")
def aarch64_delegate(tmp_path_factory) -> Path:
    """A private copy of the cross-built library: a rebuild (which rewrites the file in place) during the
    session must not change, or crash with SIGBUS, the code that the emulated processes have mapped."""
    from edgelift.delegates import neon
    from edgelift.errors import DelegateError

    try:
        path = neon.library_path("aarch64")
    except DelegateError as exc:
        missing(f"the aarch64 delegate ({exc})", "`make native` builds it")
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == EM_AARCH64, \
        f"{path} is not an aarch64 ELF shared object"
    copy = tmp_path_factory.mktemp("aarch64-delegate") / path.name
    copy.write_bytes(data)
    return copy


def _x86_library() -> Path:
    from edgelift.delegates import neon

    return neon.library_path("x86_64")


def _delegate(path: Path, kernels: str) -> dict:
    from edgelift.delegates import neon

    return {"path": str(path), "options": neon.delegate_options(num_threads=1, kernels=kernels, log_level="info")}


def _check(report: dict, cases, out: Path, tag: str, what: str) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """Every job ok, identical to x86-64, the delegate claimed nodes: ({case: (delegated, total)}, [problems])."""
    counts, problems = {}, []
    for case in cases:
        result = report["results"][case.name + tag]
        if not result["ok"]:
            problems.append(f"{case.name} ({what}): {result.get('error')}\n    log: {result.get('log', '')[-600:]}")
            continue
        try:
            assert_identical(case, out / f"{case.name}{tag}.npz", what)
        except AssertionError as exc:
            problems.append(str(exc))
        found = PARTITION_LINE.search(result["log"])
        if not found:
            problems.append(f"{case.name} ({what}): no partition line in the delegate's log: {result['log'][-600:]}")
        elif int(found.group(1)) == 0:
            problems.append(f"{case.name} ({what}): the delegate claimed no node: {found.group(0)}")
        else:
            counts[case.name] = (int(found.group(1)), int(found.group(2)))
    return counts, problems


@pytest.mark.parametrize("board", list(CPUS))
def test_every_kernel_variant_matches_x86(emulated_pi, aarch64_delegate, op_cases, whole_cases, tmp_path, board):
    cpu = CPUS[board]
    cases = [*whole_cases, *op_cases]
    jobs = [c.job(tmp_path / f"{c.name}-{v}.npz", _delegate(aarch64_delegate, v), tag=f"-{v}")
            for v in VARIANTS[board] for c in cases]
    report = emulated_pi.run_batch(jobs, cpu=cpu, runtime="tflite-runtime")
    assert report["env"]["machine"] == "aarch64"
    problems = []
    for variant in VARIANTS[board]:
        what = f"kernels={variant}, -cpu {cpu}, tflite-runtime 2.14"
        counts, found = _check(report, cases, tmp_path, f"-{variant}", what)
        problems += found
        for name in ("digits_cnn", "mobilenet_v2_224"):
            delegated, total = counts.get(name, (0, 0))
            if name in counts and delegated != total:
                problems.append(f"{name} ({what}): only {delegated} of {total} nodes delegated")
    timings = {f"{n}/{v}": report["results"][f"{n}-{v}"].get("invoke_seconds")
               for v in VARIANTS[board] for n in ("digits_cnn", "mobilenet_v2_224")}
    print(f"-cpu {cpu}: one invoke under qemu-user, seconds (emulation, not Pi speed): {timings}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("board", list(CPUS))
def test_kernel_choice_follows_the_cpu_and_refusals_are_clean(emulated_pi, aarch64_delegate, whole_cases, tmp_path,
                                                              board):
    digits = whole_cases[0]
    raw = {"path": str(aarch64_delegate)}
    jobs = [digits.job(tmp_path / "auto.npz", {**raw, "options": {"kernels": "auto", "log_level": "debug"}}, "-auto"),
            digits.job(tmp_path / "dot.npz", {**raw, "options": {"kernels": "dot", "log_level": "info"}}, "-dot"),
            digits.job(tmp_path / "bad.npz", {**raw, "options": {"kernels": "fast"}}, "-bad"),
            digits.job(tmp_path / "x86.npz", {"path": str(_x86_library()), "options": {}}, "-x86")]
    # A crash (SIGILL from an SDOT on the Cortex-A72) would make run_batch raise, naming the signal.
    results = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")["results"]

    auto = results[digits.name + "-auto"]
    assert auto["ok"], auto
    chosen = re.search(r"kernels=auto -> (\S+?),", auto["log"])
    assert chosen, f"no kernel choice in the debug log: {auto['log'][:600]}"
    if board == "pi4":
        assert "dot" not in chosen.group(1) and "scalar" not in chosen.group(1), chosen.group(0)
    else:
        assert "dot" in chosen.group(1), chosen.group(0)
    assert_identical(digits, tmp_path / "auto.npz", f"kernels=auto, -cpu {CPUS[board]}")

    dot = results[digits.name + "-dot"]
    if board == "pi4":
        assert not dot["ok"], "kernels=dot on a CPU without SDOT must be refused, not run"
        assert "dot" in (dot["error"] + dot["log"]).lower(), f"the refusal should name the dot kernels: {dot}"
    else:
        assert dot["ok"], dot
        assert_identical(digits, tmp_path / "dot.npz", f"kernels=dot, -cpu {CPUS[board]}")

    bad = results[digits.name + "-bad"]
    assert not bad["ok"] and "fast" in bad["error"] + bad["log"], f"a malformed option must be refused: {bad}"

    # The desktop build handed to the Pi: the runtime's loader refuses it (tflite-runtime 2.14 raises OSError
    # "<path>: cannot open shared object file"), the process lives on.
    x86 = results[digits.name + "-x86"]
    assert not x86["ok"] and str(_x86_library()) in x86["error"], x86


def test_ai_edge_litert_1_4_loads_the_delegate(emulated_pi, aarch64_delegate, whole_cases, op_cases, tmp_path):
    cases = [*whole_cases, *op_cases[:4]]
    jobs = [c.job(tmp_path / f"{c.name}-auto.npz", _delegate(aarch64_delegate, "auto"), tag="-auto") for c in cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS["pi5"], runtime="ai-edge-litert")
    assert report["env"]["runtime_version"] == "1.4.0"
    what = f"kernels=auto, -cpu {CPUS['pi5']}, ai-edge-litert 1.4"
    counts, problems = _check(report, cases, tmp_path, "-auto", what)
    for name, (delegated, total) in counts.items():
        if name in ("digits_cnn", "mobilenet_v2_224") and delegated != total:
            problems.append(f"{name} ({what}): only {delegated} of {total} nodes delegated")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
