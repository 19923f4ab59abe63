"""`edgelift bench` refuses bad input with one line naming the value, before any timing, changing no file."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

CASES = [
    (["bench", "fake.tflite"], 2, "'fake.tflite' is not a TFLite flatbuffer"),
    (["bench", "missing.tflite"], 2, "missing.tflite"),
    (["bench", "m.tflite", "--runs", "-3"], 2, "runs must be a whole number >= 1, got -3"),
    (["bench", "m.tflite", "--warmup", "-1"], 2, "warmup must be a whole number >= 0, got -1"),
    (["bench", "m.tflite", "--threads", "0"], 2, "threads must be a whole number >= 1, got 0"),
    (["bench", "m.tflite", "--seconds", "-1"], 2, "seconds must be a finite number > 0, got -1.0"),
    (["bench", "m.tflite", "-d", "nosuch"], 3, "unknown delegate 'nosuch'"),
    (["bench", "m.tflite", "--report", "adir"], 2, "File 'adir' is a directory"),
    (["bench", "m.tflite", "--report", "m.tflite"], 2, "output 'm.tflite' is the model itself"),
]


@pytest.mark.parametrize("argv, code, named", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_bench_refuses(work, capsys, argv, code, named):  # noqa: F811
    assert_refused(work, capsys, argv, code, named)
