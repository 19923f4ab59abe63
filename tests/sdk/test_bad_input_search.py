"""`edgelift convert --max-accuracy-drop / --max-error / --search-budget` refuse bad input with one line, exit 2,
before any work, changing no file."""

from __future__ import annotations

import numpy as np
import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

BASE = ["convert", "m.keras", "-o", "o.tflite", "--calibration", "cal.npz"]
RANGE = "--max-accuracy-drop must lie in [0, 1] (or 0%..100%), got "
CASES = [
    (["--max-accuracy-drop", "-1", "--eval-data", "lab.npz"], RANGE + "'-1'"),
    (["--max-accuracy-drop", "half", "--eval-data", "lab.npz"], "--max-accuracy-drop must be a number, got 'half'"),
    (["--max-accuracy-drop", "nan", "--eval-data", "lab.npz"], RANGE + "'nan'"),
    (["--max-accuracy-drop", "150%", "--eval-data", "lab.npz"], RANGE + "'150%'"),
    (["--max-error", "-0.1"], "--max-error '-0.1' must be a finite number >= 0"),
    (["--max-error", "inf"], "--max-error 'inf' must be a finite number >= 0"),
    (["--max-accuracy-drop", "1%"], "--max-accuracy-drop measures accuracy on labelled --eval-data, and none"),
    (["--max-accuracy-drop", "1%", "--eval-data", "unl.npz"], "evaluation data 'unl.npz' has none"),
    (["--max-accuracy-drop", "1%", "--max-error", "0.1", "--eval-data", "lab.npz"], "given together"),
    (["--max-error", "0.1", "--search-budget", "0"], "--search-budget '0' must be more than 0 minutes"),
    (["--max-error", "0.1", "--search-budget", "-3"], "--search-budget '-3' must be a finite number >= 0"),
    (["--max-error", "0.1", "--search-budget", "soon"], "--search-budget 'soon' is not a number"),
    (["--search-budget", "5"], "--search-budget bounds a precision search, and none was asked for"),
    (["--search-cost"], "--search-cost meters the result of a precision search, and none was asked for"),
    (["--max-error", "0.1", "--cluster", "8"], "--cluster cannot be combined with a precision search"),
    (["--max-error", "0.1", "--train-data", "lab.npz"], "--train-data without --prune in a precision search"),
    (["--max-error", "0.1", "--prune", "0.5", "--prune-layers", "dense=2"],
     "--prune-layers dense=2: a layer's sparsity must be a number in [0, 1)"),
    (["--max-error", "0.1", "--distill"], "--distill changes how pruning, clustering or QAT fine-tune, and none"),
    (["--max-error", "0.1", "--prune", "0.5", "--distill"], "--distill fine-tunes --prune on training data, and none"),
    (["--max-error", "0.1", "--prune", "0.5", "--temperature", "3"], "--temperature 3 was given without --distill"),
    (["--max-error", "0.1", "--quantize", "int16x8"], "--quantize int16x8 with a precision search"),
]


@pytest.mark.parametrize("extra, named", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_search_refuses(work, capsys, extra, named):  # noqa: F811
    x = np.random.default_rng(0).normal(size=(32, 16)).astype(np.float32)
    np.savez(work / "cal.npz", x=x)
    np.savez(work / "unl.npz", x=x)
    np.savez(work / "lab.npz", x=x, y=np.zeros(32, np.int64))
    assert_refused(work, capsys, BASE + extra, 2, named)


def test_a_search_without_calibration_is_refused(work, capsys):  # noqa: F811
    assert_refused(work, capsys, ["convert", "m.keras", "-o", "o.tflite", "--max-error", "0.1"], 2,
                   "needs calibration data, and none was given")


def test_layers_on_a_keras_model_refuse_what_the_float_tflite_route_cannot_do(work, capsys):  # noqa: F811
    (work / "r.yaml").write_text("layers: {'.*': int8}\ncluster: 8\n")
    assert_refused(work, capsys, ["convert", "m.keras", "-o", "o.tflite", "--recipe", "r.yaml"], 2,
                   "cluster with layers: (per-op quantize modes) on a Keras model")
