"""One exception family for everything edgelift reports to a user.

Each error subclasses the built-in that fits, so callers can catch `FileNotFoundError` or `ValueError`
as usual, and carries the exit code the CLI uses. Messages follow one shape: what happened, the value seen,
what is allowed, and — in `hint` — what to do next.
"""

from __future__ import annotations


class EdgeliftError(Exception):
    """Base of every error edgelift raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class InvalidArgumentError(EdgeliftError, ValueError):
    """A flag or parameter outside what is allowed."""


class ModelNotFoundError(EdgeliftError, FileNotFoundError):
    """A model, data or library path that does not exist."""


class InvalidModelError(EdgeliftError, ValueError):
    """A file that exists but is not a model edgelift can read (wrong format, corrupt, truncated)."""


class DataError(EdgeliftError, ValueError):
    """Calibration, training or evaluation data that does not fit the model."""


class UnsupportedModelError(EdgeliftError, ValueError):
    """A model feature (layer, op, dtype) that the requested transformation cannot handle."""


class CustomOpError(UnsupportedModelError):
    """A model with custom operators that LiteRT's builtin op resolver does not implement: no command here can
    run it (bench, validate, bundle say so alike, naming the ops)."""


class OutputError(EdgeliftError, OSError):
    """An output path that cannot be written."""


class RuntimeUnavailableError(EdgeliftError, RuntimeError):
    """No usable TFLite runtime, or a runtime feature that is missing."""

    exit_code = 3


class ToolUnavailableError(EdgeliftError, FileNotFoundError):
    """A host tool a command needs (qemu-aarch64, llvm-mca, a C compiler) that is not installed."""

    exit_code = 3


class DelegateError(EdgeliftError, RuntimeError):
    """A delegate that does not exist, fails to load, or refuses the model."""

    exit_code = 3


class RemoteError(EdgeliftError, RuntimeError):
    """A step on a remote device that failed (connection, checksum, self-check)."""

    exit_code = 4


class ThresholdError(EdgeliftError):
    """A validation threshold that was missed: the run worked, the model did not pass."""

    exit_code = 1
