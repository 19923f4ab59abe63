"""`convert --target`'s prediction against the cross-built delegate's own choice on the emulated board: a tiny
conv net pruned by `convert` (1x4 blocks, the target's default) runs on the emulated Pi 4 / Pi 5 with
sparse=auto, and the nodes the delegate logs as block-sparse are the report's layers predicted sparse there;
outputs stay identical to x86-64 LiteRT's builtin kernels."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

import edgelift
from tests.converters.conftest import arrays, tiny
from tests.emulated_pi.conftest import Case, assert_identical
from tests.emulated_pi.pi import CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import aarch64_delegate  # noqa: F401  (fixture)

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

NODES = re.compile(r"node (\d+) (?:CONV_2D|FULLY_CONNECTED) [\d.]+")
# board -> (target, sparsity): 75% passes the Pi 4's line at k = 72; the Pi 5's lower line needs 90%
RUNS = {"pi4": ("rpi4", 0.75), "pi5": ("rpi5", 0.9)}


@pytest.mark.parametrize("board", list(RUNS))
def test_the_reports_sparse_layers_are_the_ones_the_board_runs_sparse(emulated_pi, aarch64_delegate,  # noqa: F811
                                                                      model_dir, tmp_path: Path, board):
    target, sparsity = RUNS[board]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = edgelift.convert(tiny(), tmp_path / "m.tflite", prune=sparsity, prune_kind="block", target=target,
                               calibration=arrays(32)[0])
    predicted = {layer["op_index"] for layer in res.report["sparse_prediction"]["layers"] if layer["sparse_on"]}
    assert predicted, res.report["sparse_prediction"]  # the model is built so the board has sparse layers
    case = Case(f"convert_{target}", model_dir, res.output.read_bytes(), seed=300)
    job = case.job(tmp_path / "out.npz", {"path": str(aarch64_delegate),
                                          "options": {"log_level": "info", "sparse": "auto"}})
    result = emulated_pi.run_batch([job], cpu=CPUS[board], runtime="tflite-runtime")["results"][case.name]
    assert result["ok"], result
    assert_identical(case, tmp_path / "out.npz", f"sparse=auto, -cpu {CPUS[board]}")
    logged = {int(i) for i in NODES.findall(result["log"])}
    assert logged == predicted, (logged, res.report["sparse_prediction"], result["log"][-600:])
