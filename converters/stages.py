"""Which conversion step is running, so a crash of the TensorFlow child can name it.

In the child process `converters.child_worker` installs a reporter; in-process the calls cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable

_reporter: Callable[[str], None] | None = None


def set_reporter(reporter: Callable[[str], None] | None) -> None:
    global _reporter
    _reporter = reporter


def stage(name: str) -> None:
    """Mark the start of a step (e.g. 'calibration and TFLite conversion')."""
    if _reporter is not None:
        _reporter(name)
