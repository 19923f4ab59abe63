"""`edgelift inspect` refuses what is not a .tflite with one line naming it, changing no file."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

CASES = [
    (["inspect", "missing.tflite"], "model file 'missing.tflite' does not exist"),
    (["inspect", "fake.tflite"], "'fake.tflite' is not a TFLite flatbuffer (expected identifier 'TFL3' at byte 4"),
    (["inspect", "notes.txt", "--json"], "'notes.txt' is not a TFLite flatbuffer"),
    (["inspect", "m.keras"], "'m.keras' is not a TFLite flatbuffer"),
    (["inspect", "adir"], "'adir' is a directory, not a .tflite file"),
    (["inspect"], "Missing argument"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0][1:]) or "none" for c in CASES])
def test_inspect_refuses(work, capsys, argv, named):  # noqa: F811
    assert_refused(work, capsys, argv, 2, named)
