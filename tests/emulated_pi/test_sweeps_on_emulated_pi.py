"""The op catalogue's exhaustive sweeps of the ops with NEON code of their own (ADD and MUL through
qs8_vbinary__neon on every broadcast path, HARD_SWISH and LOGISTIC through the x8_lut__neon_tbl lookup) run by
the cross-built delegate on the emulated Pi 4 and Pi 5 (kernels=auto, tflite-runtime 2.14): every output must be
identical to the x86-64 builtin reference (LiteRT 2.3) on the same inputs, all 65,536 int8 pairs per node and
every value through the unary ops' vector bodies and tails (tests/opcatalogue.py). SUM too: its requantization
runs in float32, where an aarch64 build could fuse the multiply-add into an FMA and round differently; its
every_sum sweeps put every sum of an 8-wide SUM through it."""

from __future__ import annotations

import pytest

from tests import opcatalogue as oc
from tests.emulated_pi.conftest import Case, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import _check, _delegate, aarch64_delegate  # noqa: F401

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

NEON_OPS = {"ADD", "MUL", "HARD_SWISH", "LOGISTIC"}


@pytest.fixture(scope="module")
def sweep_cases(model_dir) -> list[Case]:
    cases = []
    for sweep in (s for s in oc.SWEEPS if s.op in NEON_OPS):
        model = oc.convert(sweep)
        for r in range(sweep.rounds):
            xs, _ = oc.feeds(sweep, model, r)
            case = Case(f"sweep_{sweep.id}_r{r}", model_dir, model, seed=0, inputs=xs)
            case.op = sweep.op
            cases.append(case)
    return cases


def test_the_sweeps_cover_every_neon_op(sweep_cases):
    assert {c.op for c in sweep_cases} == NEON_OPS


@pytest.mark.parametrize("board", list(CPUS))
def test_sweeps_identical_to_x86_builtin(emulated_pi, aarch64_delegate, sweep_cases, tmp_path, board):  # noqa: F811
    jobs = [c.job(tmp_path / f"{c.name}.npz", _delegate(aarch64_delegate, "auto")) for c in sweep_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    counts, problems = _check(report, sweep_cases, tmp_path, "", f"kernels=auto, -cpu {CPUS[board]}")
    problems += [f"{name}: only {d} of {t} nodes delegated" for name, (d, t) in counts.items() if d != t]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


SUM_SWEEPS = [s for s in oc.LAYER_SWEEPS if s.op == "SUM" and (s.nodes[0].kind == "every_sum" or "tightout" in s.name)]


@pytest.fixture(scope="module")
def sum_cases(model_dir) -> list[Case]:
    cases = []
    for sweep in SUM_SWEEPS:
        model = oc.convert(sweep)
        for r in range(min(sweep.rounds, 2)):
            xs, _ = oc.feeds(sweep, model, r)
            cases.append(Case(f"sum_{sweep.id}_r{r}", model_dir, model, seed=0, inputs=xs))
    return cases


@pytest.mark.parametrize("board", list(CPUS))
def test_sum_sweeps_identical_to_x86_builtin(emulated_pi, aarch64_delegate, sum_cases, tmp_path, board):  # noqa: F811
    """The delegate, and tflite-runtime 2.14's own builtin SUM (which the delegate must match there too), both
    identical to LiteRT 2.3 on x86-64."""
    jobs = [c.job(tmp_path / f"{c.name}.npz", _delegate(aarch64_delegate, "auto")) for c in sum_cases]
    jobs += [c.job(tmp_path / f"{c.name}-builtin.npz", None, tag="-builtin") for c in sum_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    counts, problems = _check(report, sum_cases, tmp_path, "", f"kernels=auto, -cpu {CPUS[board]}")
    problems += [f"{name}: only {d} of {t} nodes delegated" for name, (d, t) in counts.items() if d != t]
    for c in sum_cases:
        try:
            assert report["results"][c.name + "-builtin"]["ok"], report["results"][c.name + "-builtin"]
            assert_identical(c, tmp_path / f"{c.name}-builtin.npz", "tflite-runtime 2.14 builtin")
        except AssertionError as exc:
            problems.append(str(exc))
    assert len(counts) == len(sum_cases) and not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
