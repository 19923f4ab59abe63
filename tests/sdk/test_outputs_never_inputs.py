"""No command writes over one of its own inputs, or one output over another: each such path is refused before
any work starts, with one line naming the path, a non-zero exit, and every file left byte for byte as it was."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from edgelift.cli import main as cli_main
from tests import modelkit


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.tflite").write_bytes(modelkit.cached("int8", modelkit.conv2d))
    modelkit.dense().save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", np.zeros((4, 9, 9, 3), np.float32))
    np.savez(tmp_path / "cal.npz", x=np.random.default_rng(0).random((8, 16)).astype(np.float32))
    (tmp_path / "r.yaml").write_text("quantize: dynamic\n")
    return tmp_path


def snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


CASES = [
    (["convert", "m.keras", "-o", "m.keras", "--quantize", "dynamic"], "'m.keras' is the model itself"),
    (["convert", "m.keras", "-o", "o.tflite", "--quantize", "dynamic", "--report", "m.keras"],
     "'m.keras' is the model itself"),
    (["convert", "m.keras", "-o", "o.tflite", "--quantize", "dynamic", "--report", "o.tflite"],
     "the report and the output are both 'o.tflite'"),
    (["convert", "m.keras", "-o", "o.tflite", "--quantize", "dynamic", "--report", "o.recipe.yaml"],
     "are both 'o.recipe.yaml'"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "cal.npz", "--report", "cal.npz"],
     "'cal.npz' is the calibration data itself"),
    (["convert", "m.keras", "-o", "o.tflite", "--recipe", "r.yaml", "--report", "r.yaml"],
     "'r.yaml' is the recipe itself"),
    (["convert", "m.keras", "-o", "r.yaml", "--recipe", "r.yaml"], "'r.yaml' is the recipe itself"),
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--report", "m.tflite"],
     "'m.tflite' is the model itself"),
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--data", "x.npy", "--report", "x.npy"],
     "'x.npy' is the data itself"),
    (["bench", "m.tflite", "--report", "m.tflite"], "'m.tflite' is the model itself"),
    (["bench", "m.tflite", "--input", "x.npy", "--report", "x.npy"], "'x.npy' is the input data itself"),
    (["bench", "m.tflite", "--emulate", "rpi4", "--report", "m.tflite"], "'m.tflite' is the model itself"),
    (["run", "--host", "127.0.0.1:9", "--input", "x.npy", "-o", "x.npy"], "'x.npy' is the input itself"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_an_output_that_is_an_input_is_refused_and_nothing_changes(files, capsys, argv, named):
    before = snapshot(files)
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code != 0 and named in err and "Traceback" not in err, err
    assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1, err
    assert snapshot(files) == before


def test_rerunning_the_recipe_a_convert_wrote_leaves_it_as_it_was(files):
    assert cli_main(["convert", "m.keras", "-o", "o.tflite", "--quantize", "dynamic"]) == 0
    recipe = (files / "o.recipe.yaml").read_bytes()
    assert cli_main(["convert", "m.keras", "-o", "o.tflite", "--recipe", "o.recipe.yaml"]) == 0
    assert (files / "o.recipe.yaml").read_bytes() == recipe
