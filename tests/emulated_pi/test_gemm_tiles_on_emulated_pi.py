"""The per-layer GEMM tile choice inside the cross-built delegate on the emulated Pi 4 and Pi 5: a model whose GEMM
layers take every NEON register tile (tests/neon/tile_models.py: 4x16c4__neon_mlal, 2x8__neon_mlal and
4x16__neondot, each on some node) gives outputs identical to x86-64 LiteRT 2.3's builtin kernels, and the partition
log names the kernel the rule (delegates/neon/src/kernels/qs8_gemm_cost.h) gives each node: kernels=auto on the
Cortex-A72 and on the dot-product CPU, and kernels=neon on the latter (the ARMv8.0 variants, chosen as on a Pi 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulated_pi.conftest import Case, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import aarch64_delegate  # noqa: F401  (fixture)
from tests.neon import tile_models
from tests.neon.test_gemm_tiles import kernels_by_node

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

GEMM_NODES = (0, 2, 7)  # conv, deep, rows3 in the converted graph (tests/neon/test_gemm_tiles.py checks them)
RUNS = {"pi4": (("auto", "pi4"),), "pi5": (("auto", "pi5"), ("neon", "pi4"))}


@pytest.mark.parametrize("board", list(CPUS))
def test_every_tile_identical_to_x86_and_logged(emulated_pi, aarch64_delegate, model_dir,  # noqa: F811
                                                 tmp_path: Path, board):
    case = Case("tile_net", model_dir, tile_models.tflite(), seed=301)
    jobs = [case.job(tmp_path / f"{kernels}.npz", {"path": str(aarch64_delegate),
                                                     "options": {"log_level": "info", "kernels": kernels}},
                     tag=f"-{kernels}") for kernels, _ in RUNS[board]]
    report = emulated_pi.run_batch(jobs, cpu=CPUS[board], runtime="tflite-runtime")
    for kernels, expected in RUNS[board]:
        result = report["results"][f"tile_net-{kernels}"]
        what = f"kernels={kernels}, -cpu {CPUS[board]}"
        assert result["ok"], f"{what}: {result.get('error')} {result.get('log', '')[-600:]}"
        assert_identical(case, tmp_path / f"{kernels}.npz", what)
        assert kernels_by_node(result["log"]) == dict(zip(GEMM_NODES, tile_models.EXPECTED[expected], strict=True)), \
            f"{what}: {result['log'][-600:]}"
