"""Delegate names and loading: builtin, xnnpack, edgelift's NEON delegate, or a path to any TFLite external
delegate library (loaded with `load_delegate`, refused with a clear reason when it cannot be)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from ...errors import (
    DelegateError,
)
from .selection import RuntimeInfo

KNOWN_DELEGATES: dict[str, str] = {
    "builtin": "TFLite builtin kernels, no default delegate (the numeric reference)",
    "xnnpack": "the runtime's default CPU path (XNNPACK)",
    "neon": "edgelift's NEON int8 delegate (edgelift.delegates.neon)",
}

_LIB_SUFFIXES = (".so", ".dylib", ".dll")


def is_delegate_path(delegate: str) -> bool:
    return os.sep in delegate or delegate.endswith(_LIB_SUFFIXES) or Path(delegate).is_file()


def check_delegate_name(delegate: str) -> str:
    """Normalize a delegate name; unknown names raise DelegateError listing the known ones."""
    if not isinstance(delegate, str) or not delegate.strip():
        raise DelegateError(
            f"delegate {delegate!r} is not a name or a path; known: {', '.join(KNOWN_DELEGATES)}",
            hint="or pass the path of a TFLite external delegate library (.so)",
        )
    name = delegate.strip()
    if name.lower() in KNOWN_DELEGATES:
        return name.lower()
    if is_delegate_path(name):
        return name
    close = difflib.get_close_matches(name.lower(), list(KNOWN_DELEGATES), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise DelegateError(
        f"unknown delegate {name!r}; known: {', '.join(KNOWN_DELEGATES)}, or a path to a delegate library",
        hint=hint + "a path must contain '/' or end in .so",
    )


def neon_library_path() -> str:
    """The NEON delegate library, or DelegateError saying why it is not there."""
    try:
        from ...delegates import neon
    except ImportError as exc:
        raise DelegateError(f"the NEON delegate package cannot be imported: {exc}",
                            hint="reinstall edgelift (pip install -e .)") from None
    fn = getattr(neon, "library_path", None)
    if fn is None:
        raise DelegateError("the NEON delegate is not built in this installation (no library_path())",
                            hint="rebuild with `pip install -e .` or `make neon`")
    try:
        return str(fn())
    except Exception as exc:  # noqa: BLE001 - whatever library_path says is the reason
        raise DelegateError(f"the NEON delegate library is not available: {exc}",
                            hint="rebuild with `pip install -e .` or `make neon`") from None


def neon_options(threads: int, options: dict[str, Any] | None) -> dict[str, str]:
    """The NEON delegate's options: its own defaults with our thread count and a quiet log (the partition
    report is ours), then whatever the caller passed."""
    from ...delegates import neon

    opts: dict[str, Any] = {"num_threads": threads, "log_level": "warning"}
    opts.update(options or {})
    make = getattr(neon, "delegate_options", None)
    if make is not None and set(opts) <= {"num_threads", "kernels", "log_level"}:
        n = opts.get("num_threads", 1)
        return make(num_threads=int(n) if str(n).isdigit() else n, kernels=opts.get("kernels", "auto"),
                    log_level=opts.get("log_level", "warning"))
    return {str(k): str(v) for k, v in opts.items()}


def _why_not_loadable(library: str, exc: OSError) -> str:
    """dlopen's reason, made specific: for another architecture it only says "No such file or directory"."""
    from edgelift.delegates.neon import host_arch, library_arch

    try:
        found = library_arch(library)
    except DelegateError:
        return "it is not an ELF shared library"
    if found != host_arch():
        return f"it was built for {found}, but this machine is {host_arch()}"
    return " ".join(str(exc).split())


def load_external_delegate(rt: RuntimeInfo, library: str, options: dict[str, Any] | None):
    if not Path(library).exists():
        raise DelegateError(f"delegate library {library!r} does not exist",
                            hint="check the path, or use one of: " + ", ".join(KNOWN_DELEGATES))
    opts = {str(k): str(v) for k, v in (options or {}).items()}
    # open it the way the runtime does (ctypes) first: a library that is not a delegate then fails here with
    # the loader's own message, instead of inside the runtime's Delegate object (which then fails again
    # noisily in its finalizer)
    import ctypes

    try:
        lib = ctypes.CDLL(library)
    except OSError as exc:
        raise DelegateError(
            f"delegate library {library!r} failed to load ({rt}): {_why_not_loadable(library, exc)}",
            hint="pass a shared library built for this machine's architecture (check with `file`)",
        ) from None
    missing = [s for s in ("tflite_plugin_create_delegate", "tflite_plugin_destroy_delegate") if not hasattr(lib, s)]
    if missing:
        raise DelegateError(
            f"delegate library {library!r} is not a TFLite external delegate: it does not export "
            f"{' and '.join(missing)}",
            hint="build it with the external delegate entry points, or pass another library",
        )
    try:
        return rt.module.load_delegate(library, opts)
    except (ValueError, OSError, RuntimeError, AttributeError) as exc:
        msg = " ".join(str(exc).split())
        raise DelegateError(
            f"delegate library {library!r} failed to load ({rt}): {msg}",
            hint="that message is the delegate's own: check the options passed to it"
            + (f" ({', '.join(f'{k}={v}' for k, v in opts.items())})" if opts else "")
            + " and that it was built for this machine and runtime version",
        ) from None
