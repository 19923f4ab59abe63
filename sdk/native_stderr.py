"""What native code (TensorFlow, LiteRT) writes straight to file descriptor 2, kept off the user's terminal."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def captured() -> Iterator[list[str]]:
    """Collect what is written to fd 2 inside the block; the yielded list holds the lines once the block ends
    (callers quote them in an error, or drop them)."""
    lines: list[str] = []
    sys.stderr.flush()  # Python's own pending text goes out before the redirect
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(sink.read().decode(errors="replace").splitlines())
