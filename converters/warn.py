"""Warnings the converter reports to the user (printed by the CLI, recorded in the report)."""

from __future__ import annotations

import os
import sys
import warnings


class ConvertWarning(UserWarning):
    """Something the user should know about the result (e.g. accuracy that was not checked)."""


def warn(message: str) -> None:
    warnings.warn(message, ConvertWarning, stacklevel=2)


def progress_enabled() -> bool:
    """Progress bars on stderr when it is a terminal (EDGELIFT_PROGRESS=0/1 forces off/on)."""
    forced = os.environ.get("EDGELIFT_PROGRESS")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return sys.stderr.isatty()
