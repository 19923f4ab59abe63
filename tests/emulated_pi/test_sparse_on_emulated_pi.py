"""The block-sparse GEMM kernels inside the cross-built delegate on the emulated Pi 4 and Pi 5: block-pruned models
(every GEMM path of conv.c, 16x4 / 16x8 / 32x4 blocks, a deep 1x1 conv, MobileNetV2 with its 1x1 convs pruned 75%)
give outputs identical to x86-64 LiteRT 2.3's builtin kernels with sparse=always (every pruned node on the
board's sparse variant: 4x16c4__neon_mlal on the Cortex-A72, 4x16c4__neondot with SDOT), sparse=auto (the cost rule)
and sparse=off; the partition log names the variant, and what auto picks is what
edgelift.delegates.neon.sparse_rule predicts for the board."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edgelift.delegates.neon import sparse_rule
from edgelift.inspection import inspect
from tests.emulated_pi.conftest import Case, identical_problem
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import aarch64_delegate  # noqa: F401  (fixture)
from tests.neon import sparse_models

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

VARIANT = {"pi4": "qs8_spgemm_4x16c4__neon_mlal", "pi5": "qs8_spgemm_4x16c4__neondot"}
BOARD = {"pi4": "rpi4", "pi5": "rpi5"}
LINE = re.compile(r"block-sparse GEMM \((\S+)\) on (\d+) of (\d+) CONV_2D/FULLY_CONNECTED nodes")
MODELS = {
    "gemm_net_75_16x4": ("gemm_net", 0.75, (16, 4), False, {}),
    "gemm_net_90_16x8": ("gemm_net", 0.9, (16, 8), False, {}),
    "gemm_net_50_32x4": ("gemm_net", 0.5, (32, 4), False, {}),
    "pointwise_k256_75": ("pointwise", 0.75, (16, 4), False, {"shape": (8, 8, 256), "filters": 128}),
    "mobilenet_v2_75_1x1": ("mobilenet_v2", 0.75, (16, 4), True, {}),
}


@pytest.fixture(scope="module")
def sparse_cases(model_dir) -> list[Case]:
    return [Case(name, model_dir, sparse_models.tflite(b, s, blk, only, **kw), seed=200 + i)
            for i, (name, (b, s, blk, only, kw)) in enumerate(MODELS.items())]


def _predicted(case: Case, board: str) -> int:
    info = inspect(case.model)
    return sum(BOARD[board] in w.get("sparse_on", []) for w in info["weights"])


@pytest.mark.parametrize("board", list(CPUS))
def test_pruned_models_identical_to_x86_with_the_boards_sparse_kernel(emulated_pi, aarch64_delegate,  # noqa: F811
                                                                      sparse_cases, tmp_path: Path, board):
    modes = ("always", "auto", "off")
    jobs = [c.job(tmp_path / f"{c.name}-{m}.npz",
                  {"path": str(aarch64_delegate), "options": {"log_level": "info", "sparse": m}}, tag=f"-{m}")
            for m in modes for c in sparse_cases]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    problems = []
    for mode in modes:
        for case in sparse_cases:
            result = report["results"][f"{case.name}-{mode}"]
            what = f"sparse={mode}, -cpu {CPUS[board]}"
            problem = identical_problem(case, result, tmp_path / f"{case.name}-{mode}.npz", what)
            if problem is not None:
                problems.append(problem)
            if not result["ok"]:
                continue
            found = LINE.search(result["log"])
            if mode == "off":
                if found:
                    problems.append(f"{case.name} ({what}): {found.group(0)}")
                continue
            n_sparse = int(found.group(2)) if found else 0
            if found and found.group(1) != VARIANT[board]:
                problems.append(f"{case.name} ({what}): ran {found.group(1)}, not {VARIANT[board]}")
            if mode == "always" and n_sparse == 0:
                problems.append(f"{case.name} ({what}): no node ran sparse: {result['log'][-400:]}")
            if mode == "auto" and n_sparse != _predicted(case, board):
                problems.append(f"{case.name} ({what}): {n_sparse} sparse nodes, inspect predicts "
                                f"{_predicted(case, board)}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    # the deep 1x1 conv runs sparse by the rule on both boards (what the speed-up rests on)
    log = report["results"]["pointwise_k256_75-auto"]["log"]
    assert (m := LINE.search(log)) and m.group(2) == m.group(3) == "1", log
    assert sparse_rule.runs_sparse(BOARD[board], 0.25, 256, 64)
