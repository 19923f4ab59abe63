"""Shared pytest set-up: repository root on sys.path (for `examples` and `tests.modelkit`), session fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def digits_cnn(tmp_path_factory):
    """The digits CNN, trained once per test session; returns (tf_keras model, (xtr, ytr, xte, yte))."""
    from tests import modelkit

    return modelkit.trained_digits_cnn()


@pytest.fixture(scope="session")
def outlier_files(digits_cnn, tmp_path_factory):
    """The digits CNN with one outlier channel in conv3 (compensated in fc1, examples/digits/outlier.py) as
    .keras, float .tflite and int8 .tflite (float I/O), and data files: calibration (train x) and test (x, y)."""
    import numpy as np

    from examples.digits.outlier import add_outlier_channel
    from tests import modelkit

    model, (x_train, _y_train, x_test, y_test) = digits_cnn
    hard, channel = add_outlier_channel(model, x_train)
    d = tmp_path_factory.mktemp("outlier")
    files = {"keras": d / "hard.keras", "float": d / "hard_float.tflite", "int8": d / "hard_int8.tflite",
             "calibration": d / "calibration.npz", "test": d / "test.npz", "channel": channel}
    hard.save(files["keras"])
    files["float"].write_bytes(modelkit.float_tflite(hard))
    files["int8"].write_bytes(modelkit.int8_tflite(hard, data=x_train, samples=200, io="float32"))
    np.savez(files["calibration"], x=x_train[:200])
    np.savez(files["test"], x=x_test, y=y_test)
    return files
