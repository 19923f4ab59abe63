import os
import stat

import pytest

from edgelift.atomic import atomic_path, write_bytes
from edgelift.errors import OutputError


def test_output_gets_plain_file_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_bytes(tmp_path / "m.tflite", b"abc")
    finally:
        os.umask(old)
    assert p.read_bytes() == b"abc"
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_failure_leaves_nothing_and_keeps_existing_file(tmp_path):
    target = tmp_path / "m.tflite"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("conversion failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]


def test_unwritable_destinations_are_refused_early(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_bytes(tmp_path / "missing" / "m.tflite", b"x")
    with pytest.raises(OutputError, match="is a directory"):
        write_bytes(tmp_path, b"x")
