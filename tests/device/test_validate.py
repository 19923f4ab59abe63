"""`edgelift validate`: the trained digits CNN, int8 against its float self; a deliberately corrupted layer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgelift.cli import main
from edgelift.device.checking.validate import validate
from edgelift.device.checking.validation_result import SCHEMA
from edgelift.errors import DataError, DelegateError, InvalidArgumentError, InvalidModelError, ThresholdError
from edgelift.tflite_model import load
from tests import modelkit

pytestmark = pytest.mark.slow  # trains the digits CNN once per session (~15 s)


def corrupt_layer(content: bytes, layer: str, seed: int = 0) -> bytes:
    """Replace the int8 weights of the op whose output tensor names `layer` with random int8 values."""
    m = load(content)
    op = next(o for o in m.operators if f"/{layer}/" in m.tensors[o.outputs[0]].name)
    w = m.tensors[op.inputs[1]]
    raw = w.data.tobytes()
    assert content.count(raw) == 1, "weights not unique in the file; pick another layer"
    bad = np.random.default_rng(seed).integers(-127, 128, w.data.shape).astype(np.int8).tobytes()
    return content.replace(raw, bad)


def test_int8_vs_float_passes_sane_thresholds(digits_files):
    # The logits' span (and so the int8 step) depends on how training went on this CPU: seeds give max errors of
    # 0.4-2.1 on logits spanning ~40. A sane gate is in output steps: 10% of the int8 range (~25 steps).
    out = load(digits_files["int8"].read_bytes()).output_tensors[0]
    atol = 0.1 * 255 * float(out.scales[0])
    r = validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"],
                 min_agreement=0.95, max_accuracy_drop=0.03, atol=atol)
    o = r.outputs[0]
    assert r.passed and r.samples == 449 and o["shape"] == [449, 10]
    assert o["top1_agreement"] >= 0.95 and o["snr_db"] > 20 and o["cosine"] > 0.99
    assert 0 < o["mean_abs_error"] <= o["max_abs_error"] <= atol
    assert o["accuracy"] > 0.8 and o["reference_accuracy"] > 0.8
    assert o["accuracy_drop"] == pytest.approx(o["reference_accuracy"] - o["accuracy"])


def test_tight_threshold_fails_with_exit_code_1(digits_files, capsys):
    with pytest.raises(ThresholdError) as e:
        validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"], atol=1e-6)
    assert e.value.exit_code == 1 and "max abs error" in str(e.value) and not e.value.result.passed
    code = main(["validate", str(digits_files["int8"]), "--reference", str(digits_files["float"]),
                 "--data", str(digits_files["data"]), "--atol", "1e-6", "--min-agreement", "99.99%"])
    assert code == 1
    out, err = capsys.readouterr()
    assert "FAIL" in out and "top-1 agreement" in out and "error: validation failed" in err
    code = main(["validate", str(digits_files["int8"]), "--reference", str(digits_files["float"]),
                 "--data", str(digits_files["data"]), "--min-agreement", "0.9", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == SCHEMA and d["passed"] and d["thresholds"]["min_agreement"] == 0.9


def test_keras_reference_gives_the_float_tflite_numbers(digits_files):
    a = validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"], samples=64)
    b = validate(digits_files["int8"], reference=digits_files["keras"], data=digits_files["data"], samples=64)
    assert b.reference_kind == "keras"
    # float TFLite and Keras differ by float rounding only (different kernels): 1e-4 on logits of size ~10
    assert b.outputs[0]["max_abs_error"] == pytest.approx(a.outputs[0]["max_abs_error"], abs=1e-4)
    assert b.outputs[0]["top1_agreement"] == a.outputs[0]["top1_agreement"]


def test_exact_same_runtime_twice_is_identical(digits_files):
    r = validate(digits_files["int8"], reference_delegate="builtin", exact=True, samples=50)
    e = r.outputs[0]["exact"]
    assert r.passed and e["identical_share"] == 1.0 and e["max_lsb_difference"] == 0 and e["elements"] == 500
    assert r.outputs[0]["snr_db"] == float("inf")


def test_exact_xnnpack_against_builtin_reports_lsb_differences(digits_files):
    r = validate(digits_files["int8"], delegate="xnnpack", reference_delegate="builtin", exact=True, samples=50,
                 max_lsb=127, check=False)
    e = r.outputs[0]["exact"]
    assert sum(e["lsb_histogram"].values()) == e["elements"] == 500
    assert e["differing_elements"] == e["elements"] - e["lsb_histogram"].get(0, 0)
    assert r.passed  # within 127 LSB; XNNPACK's own rounding differs by a few LSB at most
    assert e["max_lsb_difference"] <= 4


def test_per_layer_names_the_corrupted_layer_first(digits_files, tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(corrupt_layer(digits_files["int8"].read_bytes(), "conv2"))
    report = tmp_path / "validate.html"
    r = validate(broken, reference=digits_files["float"], data=digits_files["data"], per_layer=True,
                 min_agreement=0.9, report=report, check=False)
    assert not r.passed
    d = r.diagnosis
    assert d.matching == "position" and [e.layer for e in d.layers][:4] == ["input", "conv1", "conv2", "pool"]
    assert d.ranked[0].layer == "conv2" and d.first_crossing.layer == "conv2"
    assert d.layers[1].rel_error < 0.05  # conv1 is untouched
    assert any("conv2" in a and "keep that layer in float" in a for a in d.advice)
    page = report.read_text()
    assert page.count("data:image/png;base64,") >= 2 and "conv2" in page and "http" not in page


def test_per_layer_on_the_healthy_model_finds_nothing(digits_files):
    r = validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"], per_layer=True,
                 samples=16)
    d = r.diagnosis
    assert d.first_crossing is None and len(d.layers) == 8 and all(e.rel_error < 0.1 for e in d.layers)
    assert d.layers[0].layer == "input" and d.layers[0].node == -1  # int8 input: quantized by validate
    assert "nothing to fix" in d.advice[0]


def test_random_inputs_without_data(digits_files):
    r = validate(digits_files["int8"], reference=digits_files["float"], samples=20)
    assert r.samples == 20 and r.data.startswith("random inputs (int8")


def test_bad_inputs(digits_files, conv_int8, tmp_path):
    int8, ref = digits_files["int8"], digits_files["float"]
    wrong_shape = tmp_path / "shape.npz"
    np.savez(wrong_shape, x=np.zeros((4, 9, 9, 1), np.float32))
    with pytest.raises(DataError, match=r"samples of shape \(9, 9, 1\); the model input expects \(8, 8, 1\)"):
        validate(int8, reference=ref, data=wrong_shape)
    wrong_dtype = tmp_path / "dtype.npy"
    np.save(wrong_dtype, np.zeros((4, 8, 8, 1), np.uint8))
    with pytest.raises(DataError, match="dtype uint8; the model input .* is int8"):
        validate(int8, reference=ref, data=wrong_dtype)
    other = tmp_path / "conv.tflite"
    other.write_bytes(conv_int8)
    with pytest.raises(InvalidModelError, match="the reference's inputs .* do not match"):
        validate(int8, reference=other)
    same_input = tmp_path / "same_input.tflite"  # (8, 8, 1) in like the digits CNN, (8, 8, 4) out
    same_input.write_bytes(modelkit.cached("float", modelkit.conv2d, shape=(8, 8, 1), filters=4))
    with pytest.raises(InvalidModelError, match=r"the reference's outputs \[\(8, 8, 4\)\] do not match .*\(10,\)"):
        validate(int8, reference=same_input)
    with pytest.raises(DelegateError, match="known: builtin, xnnpack, neon"):
        validate(int8, reference=ref, delegate="gpu")
    with pytest.raises(InvalidArgumentError, match="no reference given"):
        validate(int8)
    with pytest.raises(InvalidArgumentError, match="needs labels"):
        validate(int8, reference=ref, max_accuracy_drop=0.01, samples=5)
    with pytest.raises(InvalidArgumentError, match="Keras model"):
        validate(int8, reference=digits_files["keras"], exact=True, samples=5)


def test_per_layer_blames_a_miscalibrated_input_range(digits_cnn, digits_files):
    from tests import modelkit

    model, (x_train, *_rest) = digits_cnn
    # calibrated on images 10x too dark: the int8 input range covers a tenth of the real one
    narrow = modelkit.int8_tflite(model, data=x_train * 0.1, samples=50, io="float32")
    r = validate(narrow, reference=digits_files["float"], data=digits_files["data"], per_layer=True, samples=64,
                 check=False)
    d = r.diagnosis
    assert d.ranked[0].layer == "input" and d.first_crossing.layer == "input" and d.layers[0].op == "QUANTIZE"
    assert d.layers[0].clipped > 0.2
    assert "calibrate with more" in d.advice[0]


def test_neon_delegate_is_bit_exact_with_builtin_on_digits(digits_files):
    from tests.device.test_delegates import _neon_or_skip

    _neon_or_skip()
    r = validate(digits_files["int8"], delegate="neon", reference_delegate="builtin", exact=True,
                 data=digits_files["data"], samples=100)
    assert "delegate neon" in r.model_engine and "nodes delegated in" in r.model_engine
    assert r.passed and r.outputs[0]["exact"]["identical_share"] == 1.0


def test_gpu_backend_is_bit_exact_with_builtin(digits_files):
    r = validate(digits_files["int8"], backend="gpu", reference_delegate="builtin", exact=True,
                 data=digits_files["data"], samples=64)
    assert r.model_engine.startswith("XLA") and r.passed
    assert r.outputs[0]["exact"]["identical_share"] == 1.0


def test_gpu_backend_batch_flag_reaches_the_engine(digits_files, capsys):
    from edgelift.cli import main

    rc = main(["validate", str(digits_files["int8"]), "--backend", "gpu", "--batch", "16", "--reference-delegate",
               "builtin", "--exact", "--data", str(digits_files["data"]), "--samples", "40"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "batch 16" in out and "100.000%" in out
    assert main(["validate", str(digits_files["int8"]), "--backend", "gpu", "--batch", "0"]) == 2
    assert "batch must be a whole number >= 1, got 0" in capsys.readouterr().err


def test_exact_on_a_float_model_says_the_unit_is_ulps(tmp_path):
    model = tmp_path / "f.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.conv2d))
    r = validate(model, delegate="xnnpack", reference_delegate="builtin", exact=True, samples=4, check=False)
    assert any("float32 ULPs" in n and "--atol" in n for n in r.notes)
