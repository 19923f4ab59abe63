"""edgelift.convert end to end on the tiny model: report contents, clustering, QAT and PQAT."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgelift
from edgelift.device.runtime import load_interpreter
from edgelift.inspection import inspect
from tests.converters.conftest import arrays


def test_report_with_accuracy(tmp_path, model_file, data_dir):
    res = edgelift.convert(model_file, tmp_path / "m.tflite", prune=0.5, train_data=data_dir / "train.npz",
                           epochs=2, batch_size=16, calibration=data_dir / "calib.npy",
                           eval_data=data_dir / "eval.npz", report=tmp_path / "m.json")
    rep = json.loads((tmp_path / "m.json").read_text())
    assert rep == json.loads(json.dumps(res.report))
    assert rep["output"]["size_bytes"] == (tmp_path / "m.tflite").stat().st_size
    assert rep["size"]["before_float32_weight_bytes"] == 4 * rep["source"]["params"]
    assert rep["op_histogram"]["CONV_2D"] == 3 and rep["op_histogram"]["FULLY_CONNECTED"] == 2
    assert rep["tensor_dtypes"]["INT8"] > 0 and rep["inputs"][0]["dtype"] == "INT8"
    assert rep["macs"]["total"] == inspect(tmp_path / "m.tflite")["total_macs"] > 0
    by_layer = {w["layer"]: w["sparsity"] for w in rep["sparsity"]["keras_layers"]}
    assert by_layer["c2"] == pytest.approx(0.5, abs=0.01) and by_layer["c1"] < 0.05
    assert rep["steps"]["prune"]["fine_tuned"] and rep["steps"]["quantize"]["calibration_samples"] == 32
    # the .tflite accuracy in the report is the file run through LiteRT's builtin kernels
    acc = rep["accuracy"]
    x, y = np.load(data_dir / "eval.npz")["x"], np.load(data_dir / "eval.npz")["y"]
    pred = load_interpreter(tmp_path / "m.tflite").predict(x)[0]
    assert acc["tflite"] == pytest.approx(float(np.mean(pred.argmax(1) == y)), abs=1e-12)
    assert acc["samples"] == 48 and acc["metric"] == "accuracy" and acc["float_optimized"] is not None
    assert rep["warnings"] == []


def test_cluster_preserves_sparsity(tmp_path, model, data_dir):
    res = edgelift.convert(model, tmp_path / "c.tflite", prune=0.5, cluster=6, quantize="none",
                           train_data=data_dir / "train.npz", epochs=2, batch_size=16)
    info = inspect(res.output)
    w = {x["tensor"].split("/")[1]: x for x in info["weights"]}
    m = __import__("edgelift.tflite_model", fromlist=["load"]).load(res.output)
    for name in ("c2", "c3", "d1"):
        t = next(t for t in m.tensors if t.data is not None and f"/{name}/" in t.name and t.data.ndim >= 2)
        assert np.unique(t.data).size <= 6, name  # float weights take at most 6 shared values (zero included)
        assert w[name]["sparsity"] >= 0.49, name  # pruned zeros survived clustering
    assert res.report["steps"]["cluster"]["preserve_sparsity"]


def test_pruning_preserving_qat(tmp_path, model, data_dir):
    res = edgelift.convert(model, tmp_path / "q.tflite", prune=0.5, qat=True, train_data=data_dir / "train.npz",
                           epochs=1, batch_size=16)
    assert res.report["steps"]["qat"]["kind"] == "pruning-preserving"
    info = inspect(res.output)
    sp = {w["tensor"]: w["sparsity"] for w in info["weights"]}
    pruned = [v for k, v in sp.items() if "c2" in k or "c3" in k or "d1" in k]
    assert len(pruned) == 3 and min(pruned) >= 0.49
    assert info["inputs"][0]["dtype"] == "INT8"


def test_dynamic_and_float16_need_no_data(tmp_path, model):
    for mode in ("dynamic", "float16"):
        res = edgelift.convert(model, tmp_path / f"{mode}.tflite", quantize=mode)
        assert res.report["steps"]["quantize"]["mode"] == mode
        x = arrays(4)[0]
        got = load_interpreter(res.output).predict(x)[0]
        np.testing.assert_allclose(got, model(x).numpy(), atol=0.05)  # 8/16-bit weights, float activations


def test_image_folder_data_and_non_classifier_output(tmp_path, capsys):
    """An image folder (one sub-folder per class) as calibration and eval data, on a model whose output is
    not a class score: the report falls back to agreement with the float model."""
    from PIL import Image

    from edgelift.cli import main
    from tests import modelkit

    rng = np.random.default_rng(0)
    for c in ("cats", "dogs"):
        (tmp_path / "imgs" / c).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)).save(tmp_path / "imgs" / c / f"{i}.png")
    modelkit.conv2d(shape=(9, 9, 3)).save(tmp_path / "conv.keras")
    rc = main(["convert", str(tmp_path / "conv.keras"), "-o", str(tmp_path / "c.tflite"), "--io", "float32",
               "--calibration", str(tmp_path / "imgs"), "--eval-data", str(tmp_path / "imgs"),
               "--report", str(tmp_path / "c.json")])
    out = capsys.readouterr().out
    assert rc == 0
    acc = json.loads((tmp_path / "c.json").read_text())["accuracy"]
    assert acc["metric"] == "max_abs_diff_vs_float" and acc["samples"] == 20
    assert 0 < acc["tflite"] < 0.1  # int8 activations: a few quantization steps of a ~[-2, 2] output
    assert "max |.tflite - float| on 20 samples" in out


def test_cluster_preserving_qat(tmp_path, model, data_dir):
    from edgelift.tflite_model import load

    res = edgelift.convert(model, tmp_path / "cq.tflite", cluster=6, qat=True, train_data=data_dir / "train.npz",
                           epochs=1, batch_size=16)
    assert res.report["steps"]["qat"]["kind"] == "cluster-preserving"
    m = load(res.output)
    convs = [m.tensors[o.inputs[1]] for o in m.operators if o.op_name == "CONV_2D"]
    assert len(convs) == 3
    for t in convs[1:]:  # c2, c3 clustered (c1 kept dense): int8 weights take <= 6 values per output channel
        assert max(np.unique(t.data[c]).size for c in range(t.shape[0])) <= 6, t.name
    assert max(np.unique(convs[0].data[c]).size for c in range(8)) > 6  # the dense first conv is untouched
