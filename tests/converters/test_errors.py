"""Every convert error through the CLI in-process: exit code, one clear line, and no output left behind."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.cli import main


@pytest.fixture
def out_dir(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    return d


def run(capsys, args):
    rc = main(["convert", *map(str, args)])
    err = capsys.readouterr().err
    return rc, err


def assert_clean(out_dir):
    assert list(out_dir.iterdir()) == [], "an output or temporary file was left behind"


def error_line(err):
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_missing_model(capsys, out_dir):
    rc, err = run(capsys, [out_dir.parent / "nope.keras", "-o", out_dir / "m.tflite"])
    assert rc == 2
    assert "model path" in error_line(err) and "nope.keras' does not exist" in err and "allowed: .keras" in err
    assert_clean(out_dir)


@pytest.mark.parametrize("name,content,message", [
    ("junk.keras", b"this is not a model", "is not a Keras model: a .keras file is a zip archive"),
    ("junk.h5", b"\x00" * 64, "is not a Keras model: not an HDF5 file"),
    ("notes.txt", b"hello", "has suffix '.txt', which is not a model format"),
    # a .tflite is quantized through ai-edge-quantizer now (test_tflite_convert.py); "none" would only copy it
    ("model.tflite", b"\x1c\x00\x00\x00TFL3" + b"\x00" * 20, "--quantize none on a .tflite input would only copy"),
])
def test_not_a_model(capsys, tmp_path, out_dir, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    rc, err = run(capsys, [p, "-o", out_dir / "m.tflite", "--quantize", "none"])
    assert rc == 2 and message in error_line(err)
    assert_clean(out_dir)


def test_truncated_keras_archive(capsys, tmp_path, out_dir, model_file):
    p = tmp_path / "cut.keras"
    p.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    rc, err = run(capsys, [p, "-o", out_dir / "m.tflite", "--quantize", "none"])
    assert rc == 2 and "cut.keras" in error_line(err) and ("not a Keras model" in err or "damaged" in err)
    assert_clean(out_dir)


@pytest.mark.parametrize("x,message", [
    (np.zeros((64, 8, 8, 3), np.float32), "samples of shape (8, 8, 3); the model input expects (8, 8, 4)"),
    (np.zeros((64, 8, 8, 4), np.complex64), "has dtype complex64; numeric inputs (float32) are required"),
    (np.zeros((5, 8, 8, 4), np.float32), "has 5 samples; at least 16 are needed"),
])
def test_bad_calibration_data(capsys, tmp_path, out_dir, model_file, x, message):
    cal = tmp_path / "cal.npy"
    np.save(cal, x)
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--calibration", cal])
    assert rc == 2 and message in error_line(err) and "cal.npy" in err
    assert_clean(out_dir)


@pytest.mark.parametrize("value", ["1.0", "-0.25", "1.5"])
def test_sparsity_outside_range(capsys, out_dir, model_file, value):
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--prune", value, "--quantize", "none"])
    assert rc == 2 and f"sparsity {float(value)} is outside [0, 1)" in error_line(err) and "--prune 0.75" in err
    assert_clean(out_dir)


def test_layer_that_cannot_be_pruned(capsys, out_dir, model_file):
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--prune", "0.5", "--prune-layers", "flat",
                           "--quantize", "none"])
    assert rc == 2 and "layer 'flat' (Flatten) cannot take unstructured pruning" in error_line(err)
    assert_clean(out_dir)


def test_block_that_does_not_fit_a_layer(capsys, out_dir, model_file):
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--prune", "0.5", "--prune-kind", "block",
                           "--block", "1x8", "--prune-layers", "c1", "--quantize", "none"])
    assert rc == 2 and "layer 'c1' has 8 output x 4 input channels; 1x8 blocks" in error_line(err)
    assert_clean(out_dir)


def test_int8_without_calibration(capsys, out_dir, model_file):
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite"])
    assert rc == 2
    line = error_line(err)
    assert "--quantize int8 needs calibration data" in line and "--calibration DATA" in line
    assert_clean(out_dir)


def test_unwritable_output(capsys, tmp_path, model_file):
    rc, err = run(capsys, [model_file, "-o", tmp_path / "missing" / "m.tflite", "--quantize", "none"])
    assert rc == 2 and "folder" in error_line(err) and "does not exist" in err
    assert not (tmp_path / "missing").exists()
    d = tmp_path / "adir"
    d.mkdir()
    rc, err = run(capsys, [model_file, "-o", d, "--quantize", "none"])
    assert rc == 2 and "is a directory" in error_line(err)
    assert list(d.iterdir()) == []


def test_verbose_shows_traceback(capsys, out_dir, model_file):
    rc = main(["--verbose", "convert", str(model_file), "-o", str(out_dir / "m.tflite"), "--prune", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback (most recent call last)" in err and "InvalidArgumentError" in err


def test_failure_after_work_leaves_nothing(capsys, tmp_path, out_dir, model_file):
    """A converter failure late in the pipeline (after loading and pruning) still writes no file."""
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--prune", "0.5", "--eval-data",
                           tmp_path / "missing.npz", "--quantize", "none"])
    assert rc == 2 and "missing.npz' does not exist" in error_line(err)
    assert_clean(out_dir)


@pytest.mark.parametrize("extra,message", [
    (["--prune", "0.5", "--train-data", "{calib}", "--quantize", "none"], "training data '{calib}' has no labels"),
    (["--qat", "--calibration", "{calib}"], "--qat needs training data"),
    (["--prune", "0.5", "--cluster", "8", "--qat", "--train-data", "{calib}"], "--prune, --cluster and --qat"),
    (["--cluster", "1", "--quantize", "none"], "--cluster 1 is outside 2..256"),
    (["--quantize", "float16", "--io", "int8"], "--io int8 is not available with --quantize float16"),
    (["--prune", "0.5", "--prune-kind", "block", "--block", "4", "--quantize", "none"], "--block '4' is not RxC"),
    (["--prune-kind", "block", "--quantize", "none"], "--prune-kind block needs a target sparsity"),
    (["--epochs", "0", "--quantize", "none"], "--epochs 0 must be a whole number >= 1"),
])
def test_argument_errors_before_any_work(capsys, out_dir, model_file, data_dir, extra, message):
    calib = str(data_dir / "calib.npy")
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", *[e.format(calib=calib) for e in extra]])
    assert rc == 2 and message.format(calib=calib) in error_line(err)
    assert_clean(out_dir)


def test_bad_recipe(capsys, tmp_path, out_dir, model_file):
    r = tmp_path / "r.yaml"
    r.write_text("prune: [unclosed\n")
    rc, err = run(capsys, [model_file, "-o", out_dir / "m.tflite", "--recipe", r])
    assert rc == 2 and "is not valid YAML" in error_line(err)
    assert_clean(out_dir)
