"""`edgelift convert --distill` refuses bad input with one line naming the value, exit 2, no file written."""

from __future__ import annotations

import numpy as np
import pytest

from tests import modelkit
from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

BASE = ["convert", "m.keras", "-o", "o.tflite", "--quantize", "dynamic"]
PRUNED = [*BASE, "--prune", "0.5", "--train-data", "tr.npz"]
CASES = [
    ([*BASE, "--prune", "0.5", "--distill"], "--distill fine-tunes --prune on training data, and none was given"),
    ([*BASE, "--train-data", "tr.npz", "--distill"], "--distill changes how pruning, clustering or QAT fine-tune"),
    ([*BASE, "--prune", "0", "--train-data", "tr.npz", "--distill"], "none was asked"),
    ([*PRUNED, "--distill", "--teacher", "missing.keras"], "--teacher 'missing.keras' does not exist"),
    ([*PRUNED, "--distill", "--teacher", "notes.txt"], "--teacher: 'notes.txt' has suffix '.txt'"),
    ([*PRUNED, "--distill", "--teacher", "m.tflite"], "--teacher: 'm.tflite' is a .tflite, not a Keras model"),
    ([*PRUNED, "--distill", "--teacher", "five.keras"],
     "--teacher 'five.keras' takes inputs (16,) and outputs (5,); the model takes (16,) and outputs (10,)"),
    ([*PRUNED, "--distill", "--teacher", "wide.keras"], "--teacher 'wide.keras' takes inputs (12,) and outputs (10,)"),
    ([*PRUNED, "--distill", "--temperature", "0"], "--temperature 0.0 must be a finite number > 0"),
    ([*PRUNED, "--distill", "--temperature", "-2"], "--temperature -2.0 must be a finite number > 0"),
    ([*PRUNED, "--distill", "--temperature", "nan"], "--temperature nan must be a finite number > 0"),
    ([*PRUNED, "--distill", "--temperature", "warm"], "Invalid value for '--temperature': 'warm' is not a valid float"),
    ([*PRUNED, "--distill", "--distill-alpha", "1.5"], "--distill-alpha 1.5 must be in [0, 1]"),
    ([*PRUNED, "--distill", "--distill-alpha", "-0.1"], "--distill-alpha -0.1 must be in [0, 1]"),
    ([*PRUNED, "--distill", "--distill-alpha", "nan"], "--distill-alpha nan must be in [0, 1]"),
    ([*PRUNED, "--teacher", "m.keras"], "--teacher m.keras was given without --distill"),
    ([*PRUNED, "--temperature", "2"], "--temperature 2 was given without --distill"),
    ([*PRUNED, "--distill-alpha", "0.3"], "--distill-alpha 0.3 was given without --distill"),
    ([*BASE, "--prune", "0.5", "--train-data", "unlabelled.npz"], "training data 'unlabelled.npz' has no labels"),
    (["convert", "m.tflite", "-o", "o.tflite", "--distill"], "--distill does not apply to a .tflite input"),
    (["convert", "m.tflite", "-o", "o.tflite", "--temperature", "2"], "--temperature does not apply to a .tflite"),
]


@pytest.fixture()
def dwork(work):  # noqa: F811
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 16)).astype(np.float32)
    np.savez(work / "tr.npz", x=x, y=rng.integers(0, 10, 40))
    np.savez(work / "unlabelled.npz", x=x)
    modelkit.dense(units=5).save(work / "five.keras")
    modelkit.dense(features=12).save(work / "wide.keras")
    return work


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_distill_refuses(dwork, capsys, argv, named):
    assert_refused(dwork, capsys, argv, 2, named)


def test_recipe_replay_refuses_a_bad_temperature(dwork, capsys):
    (dwork / "r.yaml").write_text("distill: true\ntemperature: '4'\n")
    assert_refused(dwork, capsys, [*PRUNED, "--recipe", "r.yaml"], 2, "temperature must be a number, got the string")
