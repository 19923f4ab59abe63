"""`edgelift validate` refuses bad input with one line naming the value, before comparing, changing no file."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

B = ["--reference-delegate", "builtin"]
CASES = [
    (["validate", "fake.tflite", *B], 2, "'fake.tflite' is not a TFLite flatbuffer"),
    (["validate", "m.tflite"], 2, "no reference given"),
    (["validate", "m.tflite", "--reference", "missing.keras"], 2, "reference 'missing.keras' does not exist"),
    (["validate", "m.tflite", "--reference-delegate", "nosuch"], 3, "unknown delegate 'nosuch'"),
    (["validate", "m.tflite", *B, "--data", "missing.npz"], 2, "data path 'missing.npz' does not exist"),
    (["validate", "m.tflite", *B, "--data", "notes.txt"], 2, "data file 'notes.txt' has suffix '.txt'"),
    (["validate", "m.tflite", *B, "--report", "m.tflite"], 2, "output 'm.tflite' is the model itself"),
    (["validate", "m.tflite", *B, "--max-abs-error", "nan"], 2, "No such option '--max-abs-error'"),
]


@pytest.mark.parametrize("argv, code, named", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_validate_refuses(work, capsys, argv, code, named):  # noqa: F811
    assert_refused(work, capsys, argv, code, named)
