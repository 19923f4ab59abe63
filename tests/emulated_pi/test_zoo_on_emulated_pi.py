"""The real-architecture zoo (the fast entries of tests/neon/test_zoo.py) with the cross-built delegate on the
emulated Pi 4 and Pi 5: as many nodes delegated as on x86, and outputs identical to the x86-64 builtin reference
where the delegate runs the whole model. Where it leaves ops to the runtime, the Pi's own builtin kernels round
some ties differently from x86-64 LiteRT 2.3 (README, known limits), so those models are held to 2 steps.

tflite-runtime 2.14's own builtin kernels crashed (SIGSEGV in the guest) on the transformer block while the
delegate left some of its nodes (BATCH_MATMUL, ...) to them; the delegate now takes every node, and both runtimes
run every entry.
"""

from __future__ import annotations

import pytest

from tests import zoo
from tests.emulated_pi.conftest import Case, assert_identical, steps_off
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import PARTITION_LINE, _delegate, aarch64_delegate  # noqa: F401
from tests.neon.test_zoo import RATCHET

pytestmark = [pytest.mark.qemu, pytest.mark.slow]


@pytest.fixture(scope="module")
def zoo_cases(model_dir) -> list[Case]:
    return [Case(f"zoo_{name}", model_dir, zoo.tflite(name), seed=i) for i, name in enumerate(sorted(RATCHET))]


@pytest.mark.parametrize("board,runtime", [("pi4", "tflite-runtime"), ("pi5", "ai-edge-litert")])
def test_the_zoo_runs_on_the_pi_exactly_as_on_x86(emulated_pi, aarch64_delegate, zoo_cases, tmp_path, board,  # noqa: F811
                                                  runtime):
    from edgelift.device.runtime import load_interpreter

    cases = zoo_cases
    jobs = [c.job(tmp_path / f"{c.name}-auto.npz", _delegate(aarch64_delegate, "auto"), tag="-auto") for c in cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime=runtime)
    what = f"kernels=auto, -cpu {CPUS[board]}, {runtime}"
    problems = []
    for case in cases:
        result = report["results"][case.name + "-auto"]
        if not result["ok"]:
            problems.append(f"{case.name} ({what}): {result.get('error')}")
            continue
        on_x86 = load_interpreter(case.model.read_bytes(), "neon").partition_info
        found = PARTITION_LINE.search(result["log"])
        if not found or int(found.group(1)) != len(on_x86.delegated_nodes):
            problems.append(f"{case.name} ({what}): {found.group(0) if found else 'no partition line'} on the Pi, "
                            f"{on_x86.summary} on x86")
        out = tmp_path / f"{case.name}-auto.npz"
        try:
            if len(on_x86.delegated_nodes) == on_x86.total_nodes:
                assert_identical(case, out, what)
            else:  # a 10-logit output cannot bound a share of values: the bound is on steps alone
                steps_off(case, out, what, max_steps=2, max_share=1.0)
        except AssertionError as exc:
            problems.append(str(exc))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
