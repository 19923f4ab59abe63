"""The shape every refused command must have: its exit code, one `error:` line naming the value, no traceback,
nothing on stdout, and every file in the working folder as it was (none added, none changed)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from edgelift.cli import main as cli_main
from tests import modelkit


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def assert_refused(folder: Path, capsys, argv: list[str], code: int, named: str) -> str:
    before = snapshot(folder)
    capsys.readouterr()
    got = cli_main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert got == code, (got, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert named in lines[0], (named, lines[0])
    assert "Traceback" not in err and "internal error" not in err and out == "", out + err
    assert snapshot(folder) == before
    return lines[0]


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A folder with a good int8 model, a Keras model, and files that are not what they claim."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.tflite").write_bytes(modelkit.cached("int8", modelkit.conv2d))
    modelkit.dense().save(tmp_path / "m.keras")
    (tmp_path / "fake.tflite").write_bytes(b"not a model")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "adir").mkdir()
    return tmp_path
