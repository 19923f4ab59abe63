"""fd-2 capture: what native code writes is collected, and the terminal's stderr comes back afterwards."""

from __future__ import annotations

import os

from edgelift.native_stderr import captured


def test_fd2_writes_are_collected_and_fd2_restored(capfd):
    with captured() as lines:
        os.write(2, b"INFO: native noise\nERROR: the reason\n")
    assert lines == ["INFO: native noise", "ERROR: the reason"]
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_restored_when_the_block_raises(capfd):
    try:
        with captured() as lines:
            os.write(2, b"partial\n")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert lines == ["partial"]
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"
