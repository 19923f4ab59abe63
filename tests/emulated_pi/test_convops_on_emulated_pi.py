"""TRANSPOSE_CONV and grouped CONV_2D on the emulated Pi (tflite-runtime 2.14, Pi 4 and Pi 5 cores): the
runtime's own builtin kernels give the same outputs as x86-64 LiteRT 2.3 (so one rounding rule serves both
runtimes: the vector body's groups of 8 channels and the tail, tests/neon/test_convops.py; 2.14 also runs
TRANSPOSE_CONV version 4, the fused activation), and the cross-built delegate, every kernel variant, claims every
node and gives them too."""

from __future__ import annotations

import pytest

from tests.emulated_pi.conftest import Case, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import PARTITION_LINE, VARIANTS, _delegate, aarch64_delegate  # noqa: F401
from tests.neon import harness
from tests.neon.test_convops import GROUPED, TRANSPOSE_CONV, with_output_range

pytestmark = [pytest.mark.qemu, pytest.mark.slow]


@pytest.fixture(scope="module")
def conv_cases(model_dir) -> list[Case]:
    cases = [Case(name, model_dir, harness.convert(builder, *calib, **kwargs), seed=200 + i)
             for i, (name, builder, calib, kwargs) in enumerate([*TRANSPOSE_CONV, *GROUPED])]
    for i, act in enumerate(("relu", "relu6")):  # op version 4: the fused clamp inside the output's range
        model = harness.convert("conv2d_transpose", -4, 4, shape=(8, 8, 6), filters=17, kernel=3, activation=act)
        cases.append(Case(f"tconv_fused_{act}", model_dir, with_output_range(model, -3.0, 9.0), seed=300 + i))
    return cases


@pytest.mark.parametrize("board", list(CPUS))
def test_builtin_and_every_variant_match_x86(emulated_pi, aarch64_delegate, conv_cases, tmp_path, board):  # noqa: F811
    cpu = CPUS[board]
    variants = VARIANTS[board]
    jobs = [c.job(tmp_path / f"{c.name}-builtin.npz", None, tag="-builtin") for c in conv_cases]
    jobs += [c.job(tmp_path / f"{c.name}-{v}.npz", _delegate(aarch64_delegate, v), tag=f"-{v}")
             for v in variants for c in conv_cases]
    report = emulated_pi.run_batch(jobs, cpu=cpu, runtime="tflite-runtime")
    problems = []
    for tag in ("builtin", *variants):
        what = f"{tag}, -cpu {cpu}, tflite-runtime 2.14"
        for case in conv_cases:
            result = report["results"][f"{case.name}-{tag}"]
            if not result["ok"]:
                problems.append(f"{case.name} ({what}): {result.get('error')}")
                continue
            try:
                assert_identical(case, tmp_path / f"{case.name}-{tag}.npz", what)
            except AssertionError as exc:
                problems.append(str(exc))
            if tag != "builtin":
                found = PARTITION_LINE.search(result["log"])
                if not found or found.group(1) != found.group(2):
                    problems.append(f"{case.name} ({what}): {found.group(0) if found else 'no partition line'}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
