"""Flags that would be ignored, silently replaced or never return are refused with one line, before any work
or connection; `--verbose` is a global flag wherever it is written."""

from __future__ import annotations

import pytest

from edgelift.cli import main as cli_main
from tests import modelkit


@pytest.fixture()
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.tflite").write_bytes(modelkit.cached("int8", modelkit.conv2d))
    modelkit.dense().save(tmp_path / "m.keras")
    (tmp_path / "hosts.bin").write_bytes(b"pi1\n\x00\x01\xffbinary\n")
    return tmp_path


CASES = [
    (["bench", "m.tflite", "-d", "builtin", "--delegate-option", "num_threads=2"],
     "delegate options ['num_threads'] given, but builtin take(s) none"),
    (["validate", "m.tflite", "--reference-delegate", "builtin", "--delegate-option", "kernels=dot"],
     "delegate options ['kernels'] given for 'builtin', which takes none"),
    (["bench", "m.tflite", "--seconds", "inf"], "seconds must be a finite number > 0, got inf"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "--runs", "0"], "runs must be a whole number >= 1, got 0"),
    (["deploy", "m.tflite", "--hosts", "hosts.bin"], "hosts file 'hosts.bin' is not UTF-8 text (byte 6"),
    (["convert", "m.keras", "-o", "o.tflite", "--calibration-samples", "1"], "--calibration-samples 1 is below 10"),
]


@pytest.mark.parametrize("argv, named", CASES, ids=[" ".join(c[0][2:]) for c in CASES])
def test_refused_with_one_line(work, capsys, argv, named):
    code = cli_main(argv)
    err = capsys.readouterr().err
    assert code == 2 and named in err and "internal error" not in err, err
    assert not (work / "o.tflite").exists()


def test_verbose_after_the_subcommand_is_the_global_flag(work, capsys):
    code = cli_main(["bench", "missing.tflite", "--verbose"])
    err = capsys.readouterr().err
    assert code != 0 and "No such option" not in err and "missing.tflite" in err and "Traceback" in err, err
