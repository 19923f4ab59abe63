"""`edgelift convert` refuses bad input with one line naming the value, before any work, changing no file."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

CASES = [
    (["convert", "missing.keras", "-o", "o.tflite"], "model path 'missing.keras' does not exist"),
    (["convert", "notes.txt", "-o", "o.tflite", "--quantize", "dynamic"], "'notes.txt' has suffix '.txt'"),
    (["convert", "m.keras", "-o", "o.tflite", "--prune", "1.5"], "sparsity 1.5 is outside [0, 1)"),
    (["convert", "m.keras", "-o", "o.tflite", "--prune", "nan"], "sparsity nan is outside [0, 1)"),
    (["convert", "m.keras", "-o", "o.tflite", "--cluster", "1"], "--cluster 1 is outside 2..256"),
    (["convert", "m.keras", "-o", "o.tflite", "--epochs", "0"], "--epochs 0 must be a whole number >= 1"),
    (["convert", "m.keras", "-o", "o.tflite", "--prune", "0.5", "--prune-kind", "block", "--block", "0x4"],
     "--block 0x4 must have positive sides"),
    (["convert", "m.keras", "-o", "o.tflite", "--recipe", "missing.yaml"], "recipe 'missing.yaml' does not exist"),
    (["convert", "m.keras", "-o", "o.tflite", "--recipe", "notes.txt"], "recipe 'notes.txt' has suffix '.txt'"),
    (["convert", "m.keras", "-o", "adir/sub/o.tflite", "--quantize", "dynamic"],
     "folder 'adir/sub' does not exist"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration", "missing.npz"],
     "data path 'missing.npz' does not exist"),
    (["convert", "m.keras", "-o", "o.tflite", "--quantize", "int4"], "'int4' is not one of"),
    (["convert", "m.keras"], "no output path given"),
    (["convert", "m.keras", "-o", "o.tflite", "--no-such-flag"], "No such option '--no-such-flag'"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_convert_refuses(work, capsys, argv, named):  # noqa: F811
    assert_refused(work, capsys, argv, 2, named)
