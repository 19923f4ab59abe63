"""Shape inference and int32 folding (delegates/neon/src/shape_infer.c) with the cross-built delegate on the
emulated Pi: the schema-written dynamic-batch graph (SHAPE -> ... -> RESHAPE, FILL of a folded count) and int8
FILL under tflite-runtime 2.14 (Pi 4) and ai-edge-litert 1.4 (Pi 5), every node delegated, outputs identical
to x86-64 LiteRT 2.3's builtin kernels."""

from __future__ import annotations

import pytest

from tests import shapemodels as sm
from tests.emulated_pi.conftest import Case, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import PARTITION_LINE, _delegate, aarch64_delegate  # noqa: F401

pytestmark = [pytest.mark.qemu, pytest.mark.slow]


@pytest.fixture(scope="module")
def shape_cases(model_dir) -> list[Case]:
    return [Case("shapes_dynamic_reshapes", model_dir, sm.dynamic_reshapes(), seed=40),
            Case("shapes_fill_int8", model_dir, sm.fill((0.003, -128), (0.003, -128)), seed=41)]


@pytest.mark.parametrize("board,runtime", [("pi4", "tflite-runtime"), ("pi5", "ai-edge-litert")])
def test_shape_graphs_run_whole_on_the_pi_exactly_as_on_x86(emulated_pi, aarch64_delegate, shape_cases, tmp_path,  # noqa: F811
                                                            board, runtime):
    jobs = [c.job(tmp_path / f"{c.name}.npz", _delegate(aarch64_delegate, "auto")) for c in shape_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime=runtime)
    what = f"kernels=auto, -cpu {CPUS[board]}, {runtime}"
    problems = []
    for case in shape_cases:
        result = report["results"][case.name]
        if not result["ok"]:
            problems.append(f"{case.name} ({what}): {result.get('error')}")
            continue
        found = PARTITION_LINE.search(result["log"])
        if not found or found.group(1) != found.group(2) or found.group(3) != "1":
            problems.append(f"{case.name} ({what}): {found.group(0) if found else 'no partition line'}")
        try:
            assert_identical(case, tmp_path / f"{case.name}.npz", what)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
