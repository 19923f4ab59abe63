"""convert's sparse prediction (converters/sparse_report.py) on a converted digits-sized model: per pruned
CONV_2D / FULLY_CONNECTED layer the block density the NEON delegate measures at prepare (its info log, read from
the same .tflite through load_interpreter) and the sparse-or-dense verdict of the delegate's rule on each board
(the Python twin, whose constants are checked against the C sources here too); the warning that names the
layers a target will run dense, and both boards without a target."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.converters import sparse_report
from edgelift.delegates.neon import sparse_rule
from edgelift.device.runtime import load_interpreter
from edgelift.tflite_model import load
from tests.neon.kernel_tester import KERNELS
from tests.neon.test_sparse_rule import _c_registry

LOGGED = re.compile(r"node (\d+) (?:CONV_2D|FULLY_CONNECTED) ([\d.]+)")


def _convert(args: list, capfd) -> tuple[int, str, str]:
    rc = main(["convert", *map(str, args)])
    cap = capfd.readouterr()
    return rc, cap.out, cap.err


def _gemm_shape(m, op) -> tuple[int, int]:
    """(k, m) straight from the file's shapes: conv k = KH*KW*I over OH*OW rows, FC k = I over the batch."""
    w = m.tensors[op.inputs[1]].shape
    if op.op_name == "CONV_2D":
        out = m.tensors[op.outputs[0]].shape
        return w[1] * w[2] * w[3], out[1] * out[2]
    return w[1], int(np.prod(m.tensors[op.inputs[0]].shape)) // w[1]


def _logged_densities(tflite, capfd) -> dict[int, float]:
    capfd.readouterr()
    runner = load_interpreter(tflite, "neon", delegate_options={"log_level": "info", "sparse": "always"})
    runner.close()
    return {int(i): float(d) for i, d in LOGGED.findall(capfd.readouterr().err)}


def test_the_twin_is_the_delegates_rule():
    registry = _c_registry()
    for u in sparse_rule.KERNELS.values():
        assert registry[u.name] == (u.break_even_density, u.break_even_k, u.max_k, u.rows), (u, registry[u.name])
    src = (KERNELS / "qs8_spgemm_registry.c").read_text()
    flags = dict(re.findall(r'\{\{"(qs8_spgemm_\w+)".*?\},\s*\w+, \w+, [^,]+, \d+, ([01]), \w+\}', src, re.S))
    assert {u.name: u.no_minus128 for u in sparse_rule.KERNELS.values()} == {
        u.name: flags[u.name] == "1" for u in sparse_rule.KERNELS.values()}, flags


def test_a_minus128_weight_keeps_the_layer_dense_on_a_pi4_only():
    w = np.zeros((8, 3, 3, 32), np.int8)
    w[:, 0, 0, :4] = 5  # density 1/72: sparse on both boards at k = 288, 64 rows
    assert sparse_rule.predict("CONV_2D", w, [1, 8, 8, 32], [1, 8, 8, 8])["sparse_on"] == ["rpi4", "rpi5"]
    w[0, 0, 0, 0] = -128  # the Pi 4 kernel packs two products per int16 lane: sparse_choice.c sends it dense
    assert sparse_rule.predict("CONV_2D", w, [1, 8, 8, 32], [1, 8, 8, 8])["sparse_on"] == ["rpi5"]
    assert "-128" in sparse_report._why_dense("rpi4", 1 / 72, 288, 64, minus128=True)


def test_target_rpi4_report_predicts_what_the_delegate_measures(tmp_path, capfd, model_file, data_dir):
    out, rep_path = tmp_path / "m.tflite", tmp_path / "m.json"
    rc, stdout, stderr = _convert([model_file, "-o", out, "--prune", "0.75", "--prune-kind", "block", "--target",
                                   "rpi4", "--calibration", data_dir / "calib.npy", "--report", rep_path], capfd)
    assert rc == 0, stderr
    pred = json.loads(rep_path.read_text())["sparse_prediction"]
    assert pred["target"] == "rpi4" and pred["boards"] == ["rpi4"]
    layers = {layer["layer"]: layer for layer in pred["layers"]}
    assert set(layers) == {"c2", "c3", "d1"}, layers  # c1 and the classifier stay dense by default

    m = load(out.read_bytes())
    logged = _logged_densities(out.read_bytes(), capfd)
    for name, layer in layers.items():
        op = m.operators[layer["op_index"]]
        k, rows = _gemm_shape(m, op)
        assert (layer["k"], layer["m"]) == (k, rows), (name, layer)
        assert abs(logged[layer["op_index"]] - layer["block_density"]) <= 0.005, (name, logged, layer)
        assert (layer["sparse_on"] == ["rpi4"]) == sparse_rule.runs_sparse("rpi4", logged[layer["op_index"]], k,
                                                                           rows), (name, layer)
    # 3x3 convs over 8 channels (k = 72, 64 and 16 rows) at 0.25 are under the Pi 4's line; d1 is a batch-1 FC
    assert layers["c2"]["sparse_on"] == layers["c3"]["sparse_on"] == ["rpi4"] and layers["d1"]["sparse_on"] == []
    assert pred["summary"] == {"rpi4": {"sparse": 2, "layers": 3}}

    assert "2 of 3 pruned layers will run block-sparse on a Pi 4 (NEON delegate)" in stdout, stdout
    assert re.search(r"c2 CONV_2D k=72: block density 0\.2\d, sparse on Pi 4", stdout), stdout
    warning = [line for line in stderr.splitlines() if "will run dense" in line]
    assert len(warning) == 1 and "1 of 3 pruned layers will run dense on a Pi 4: 'd1'" in warning[0], stderr
    assert "x 4.00 (1 row in 4-row tiles) is above the break-even 0.93 at k=128" in warning[0], warning


def test_a_block_the_kernel_cannot_skip_names_the_dense_layers(tmp_path, model_file, data_dir):
    res = edgelift.convert(model_file, tmp_path / "m.tflite", prune=0.75, prune_kind="block", block="4x1",
                           target="rpi4", calibration=data_dir / "calib.npy")
    pred = res.report["sparse_prediction"]
    assert res.report["steps"]["prune"]["block"] == "4x1"  # given explicitly: kept, not replaced by the default
    # 4x1 zeros line up into whole 16x4 blocks only by chance (about 0.75^16 of them at 75%; 0.75^8 in these
    # 8-channel layers, whose 16x4 blocks hold 8 real rows)
    assert all(layer["block_density"] > 0.5 for layer in pred["layers"]), pred
    dense = [layer["layer"] for layer in pred["layers"] if layer["sparse_on"] == []]
    (warning,) = [w for w in res.warnings if "will run dense" in w]
    assert dense and f"{len(dense)} of 3 pruned layers will run dense on a Pi 4: '{dense[0]}' (block" in warning
    assert all(f"'{name}'" in warning for name in dense), (dense, warning)
    assert "--block 4x1 is not made of the 16x4 blocks" in warning, warning


def test_without_target_both_boards_are_named(tmp_path, model_file, data_dir):
    res = edgelift.convert(model_file, tmp_path / "m.tflite", prune=0.75, prune_kind="block",
                           calibration=data_dir / "calib.npy")
    pred = res.report["sparse_prediction"]
    assert res.report["steps"]["prune"]["block"] == "1x4" and pred["target"] is None
    assert pred["boards"] == ["rpi4", "rpi5"]
    # 1x4 zeros rarely fill a whole 16x4 kernel block (these 8-channel layers' blocks hold 8 real rows, so some
    # do): each board's count is that of the layers under its own line
    n = {b: sum(b in layer["sparse_on"] for layer in pred["layers"]) for b in ("rpi4", "rpi5")}
    assert pred["summary"] == {b: {"sparse": n[b], "layers": 3} for b in n}, pred
    assert n["rpi4"] < 3 and all(layer["block_density"] > 0.5 for layer in pred["layers"]), pred
    line = f"{n['rpi4']} of 3 pruned layers will run block-sparse on a Pi 4, {n['rpi5']} of 3 on a Pi 5"
    assert line in res.summary(), res.summary()
    assert not [w for w in res.warnings if "will run dense" in w]  # no target: nothing to warn about


@pytest.mark.parametrize("board,density,k,m,words", [
    ("rpi4", 0.25, 5000, 64, "k=5000 is deeper than the kernel's 4096"),
    ("rpi4", 0.25, 1, 64, "k=1 is too shallow"),
    ("rpi5", 0.25, 256, 1, "block density 0.25 x 4.00 (1 row in 4-row tiles) is above the break-even 0.94"),
    ("rpi4", 0.95, 64, 64, "block density 0.95 is above the break-even 0.92 at k=64"),
])
def test_dense_reasons_use_the_rules_terms(board, density, k, m, words):
    assert not sparse_rule.runs_sparse(board, density, k, m)
    pred = {"target": board, "boards": [board], "layers": [
        {"layer": "x", "block_density": density, "k": k, "m": m, "sparse_on": [],
         "dense_because": {board: sparse_report._why_dense(board, density, k, m)}}]}
    msg = sparse_report.dense_warning(pred, "block", (1, 4))
    assert msg.startswith("1 of 1 pruned layers will run dense on a Pi") and words in msg, msg


def test_zeros_the_kernel_does_not_skip_get_the_way_out_named():
    layer = {"layer": "c2", "block_density": 0.95, "k": 72, "m": 64, "sparse_on": [],
             "dense_because": {"rpi4": sparse_report._why_dense("rpi4", 0.95, 72, 64)}}
    pred = {"target": "rpi4", "boards": ["rpi4"], "layers": [layer]}
    assert "use --prune-kind block" in sparse_report.dense_warning(pred, "unstructured", (1, 4))
    assert "use --block 16x4" in sparse_report.dense_warning(pred, "block", (2, 2))
    assert "--block" not in sparse_report.dense_warning(pred, "block", (16, 8))  # whole 16x4 blocks: too dense
    assert sparse_report.dense_warning({**pred, "target": None, "boards": ["rpi4", "rpi5"]}, "block", (2, 2)) is None


def test_a_target_without_pruning_says_every_layer_runs_dense():
    pred = sparse_report.predict([], None, None, "rpi5")
    assert pred["layers"] == [] and pred["summary"] == {"rpi5": {"sparse": 0, "layers": 0}}
    assert sparse_report.summary_line(pred) == ("no pruned CONV_2D / FULLY_CONNECTED layers: every layer runs "
                                                "dense on a Pi 5")
    assert sparse_report.dense_warning(pred, None, None) is None
