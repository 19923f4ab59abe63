"""`edgelift bundle` refuses bad input with one line naming the value, before writing, changing no file."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

CASES = [
    (["bundle", "missing.tflite", "-o", "b.bundle"], 2, "model file 'missing.tflite' does not exist"),
    (["bundle", "fake.tflite", "-o", "b.bundle"], 2, "'fake.tflite' is not a .tflite flatbuffer"),
    (["bundle", "m.keras", "-o", "b.bundle"], 2, "'m.keras' is not a .tflite flatbuffer"),
    (["bundle", "m.tflite", "--target", "rpi9", "-o", "b.bundle"], 2, "'rpi9' is not one of"),
    (["bundle", "m.tflite", "-o", "m.tflite"], 2, "Directory 'm.tflite' is a file"),
    (["bundle", "m.tflite", "-o", "."], 2, "output '.' exists and is not an edgelift bundle"),
    (["bundle", "m.tflite", "-o", "b.bundle", "--delegate-library", "notes.txt"], 3,
     "notes.txt is not an ELF shared library"),
    (["bundle", "m.tflite", "-o", "b.bundle", "--sign", "missing_key"], 2, "signing key 'missing_key' does not exist"),
    # checked by BundleOptions before the model is read (a bad model file is then never opened)
    (["bundle", "fake.tflite", "-o", "b.bundle", "--threads", "0"], 2, "threads must be a whole number >= 1, got 0"),
    (["bundle", "m.tflite", "-o", "b.bundle", "--threads", "65"], 2, "threads must be at most 64, got 65"),
    (["bundle", "m.tflite", "-o", "b.bundle", "--self-check-atol", "nan"], 2, "nan"),
]


@pytest.mark.parametrize("argv, code, named", CASES, ids=[" ".join(c[0][1:]) for c in CASES])
def test_bundle_refuses(work, capsys, argv, code, named):  # noqa: F811
    assert_refused(work, capsys, argv, code, named)
