"""`deploy`, `rollback`, `run` and `device info|trust` refuse bad input with one line naming the value, before
connecting (the host given, 127.0.0.1:9, has nothing listening: reaching it would fail differently)."""

from __future__ import annotations

import pytest

from tests.sdk.bad_input import assert_refused, work  # noqa: F401 (the fixture)

H = ["--host", "127.0.0.1:9"]
CASES = [
    (["deploy", "m.tflite"], "give exactly one of --host and --hosts"),
    (["deploy", "m.tflite", "--host", "pi;rm"], "cannot read the host 'pi;rm'"),
    (["deploy", "m.tflite", "--host", "pi@h:0"], "port 0 in host 'pi@h:0' is outside 1..65535"),
    (["deploy", "fake.tflite", *H], "'fake.tflite' is not a .tflite flatbuffer"),
    (["deploy", "adir", *H], "'adir' is not an edgelift bundle (no valid manifest.json)"),
    (["deploy"], "Missing argument 'MODEL_OR_BUNDLE'"),
    (["rollback"], "Missing option '--host'"),
    (["rollback", "--host", "bad$host"], "cannot read the host 'bad$host'"),
    (["run", *H], "Missing option '--input'"),
    (["run", *H, "--input", "missing.npy", "-o", "y.npy"], "input file 'missing.npy' does not exist"),
    (["run", *H, "--input", "notes.txt", "-o", "y.npy"], "input 'notes.txt' is not a .npy or .npz file"),
    (["run", *H, "--input", "m.tflite", "-o", "m.tflite"], "output 'm.tflite' is the input itself"),
    (["run", *H, "--input", "m.tflite", "-o", "y.npy", "--threads", "0"], "threads must be a whole number >= 1, got 0"),
    (["run", *H, "--input", "m.tflite", "-o", "adir/sub/y.npy"], "folder 'adir/sub' does not exist"),
    (["run", *H, "--input", "m.tflite", "-o", "y.npy", "--remote-dir", " "], "the remote directory is empty"),
    (["rollback", *H, "--remote-dir", "~bob/edgelift"], "remote path '~bob/edgelift': ~user paths are not supported"),
    (["device", "info", *H, "--remote-dir", ""], "the remote directory is empty"),
    (["device", "info", *H, "--remote-python", "~eve/py"], "remote path '~eve/py': ~user paths are not supported"),
    (["device", "info"], "Missing option '--host'"),
    (["device", "trust", *H, "missing.pub", "--principal", "me"], "public key 'missing.pub' does not exist"),
    (["device", "trust", *H, "notes.txt", "--principal", "me"], "'notes.txt' is not an OpenSSH public key"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_remote_commands_refuse(work, capsys, argv, named):  # noqa: F811
    assert_refused(work, capsys, argv, 2, named)
