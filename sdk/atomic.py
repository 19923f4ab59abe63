"""Write outputs atomically: a temporary file in the same folder, then a rename.

A failure at any point leaves no half-written output behind and an existing file untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early (before hours of work) when `path` cannot be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"output path {str(path)!r} is a directory", hint="give a file name")
    if not parent.exists():
        raise OutputError(
            f"cannot write {str(path)!r}: folder {str(parent)!r} does not exist",
            hint="create the folder first or choose another output path",
        )
    if not os.access(parent, os.W_OK):
        raise OutputError(
            f"cannot write {str(path)!r}: folder {str(parent)!r} is not writable",
            hint="choose an output path you can write to",
        )
    return path


def check_not_input(output: str | os.PathLike, **inputs: str | os.PathLike | None) -> None:
    """Refuse an output path that is one of the command's inputs (writing it would destroy the input)."""
    out = Path(output).resolve()
    for label, path in inputs.items():
        if path is not None and not isinstance(path, (bytes, bytearray, memoryview)) and Path(path).resolve() == out:
            raise OutputError(f"output {str(output)!r} is the {label.replace('_', ' ')} itself; writing it would "
                              "destroy the input", hint="choose another output path")


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def check_outputs(outputs: dict[str, str | os.PathLike | None], inputs: dict[str, object]) -> dict[str, Path]:
    """Check every output path of a command before it starts work: writable, not one of its inputs, and no two
    outputs the same file. `inputs` values that are not paths (arrays, bytes, in-memory models) are ignored.
    Returns the outputs given, as Paths, by label."""
    checked: dict[str, Path] = {}
    for label, path in outputs.items():
        if path is None:
            continue
        checked[label] = check_writable(path)
        check_not_input(path, **{k: v for k, v in inputs.items() if _is_path(v)})
    seen: dict[Path, str] = {}
    for label, path in checked.items():
        key = path.resolve()
        if key in seen:
            raise OutputError(f"the {label.replace('_', ' ')} and the {seen[key].replace('_', ' ')} are both "
                              f"{str(path)!r}; one would overwrite the other", hint="give them different paths")
        seen[key] = label
    return checked


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success rename it into place, on failure remove it."""
    path = check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the output the permissions a plain open() would (0666 minus umask)
        umask = os.umask(0)
        os.umask(umask)
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
