"""Data that cannot give a meaningful answer is refused with one line before any work: NaN or Inf anywhere
(validate once printed "max abs error nan" and then PASS; an all-NaN calibration set wrote a float model the
summary called int8; one +Inf in calibration crashed TensorFlow), and class labels outside the model's outputs
(scored as a silent 0% accuracy)."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.cli import main as cli_main
from tests import modelkit


@pytest.fixture()
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    modelkit.dense().save(tmp_path / "m.keras")  # 16 features -> 10 classes
    (tmp_path / "m.tflite").write_bytes(modelkit.cached("int8", modelkit.dense))
    rng = np.random.default_rng(0)
    x = rng.random((32, 16)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    np.savez("good.npz", x=x, y=y)
    for name, value in (("one_nan", np.nan), ("one_inf", np.inf), ("neg_inf", -np.inf)):
        bad = x.copy()
        bad[5, 3] = value
        np.savez(f"{name}.npz", x=bad, y=y)
    np.savez("all_nan.npz", x=np.full_like(x, np.nan), y=y)
    np.savez("labels_20.npz", x=x, y=np.arange(32) % 20)
    return tmp_path


CASES = [
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--data", "one_nan.npz"],
     "1 non-finite value(s) (NaN or Inf), the first at index (5, 3)"),
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--data", "neg_inf.npz"], "non-finite"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "all_nan.npz"],
     "512 non-finite value(s) (NaN or Inf), the first at index (0, 0)"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "one_nan.npz"], "non-finite"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "one_inf.npz"], "non-finite"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "good.npz", "--eval-data", "labels_20.npz"],
     "labels range over [0, 19] but the model has 10 outputs"),
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--data", "labels_20.npz"],
     "labels range over [0, 19] but the model has 10 outputs"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0][-2:]) + " " + c[0][0] for c in CASES])
def test_bad_data_is_refused_with_one_line_and_no_output(work, capsys, argv, named):
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code != 0 and named in err and "Traceback" not in err, err
    assert not (work / "o.tflite").exists()


def test_good_data_still_converts_and_validates(work, capsys):
    assert cli_main(["convert", "m.keras", "-o", "o.tflite", "--calibration", "good.npz",
                     "--eval-data", "good.npz"]) == 0
    assert cli_main(["validate", "o.tflite", "--reference-delegate", "builtin", "--data", "good.npz"]) == 0
