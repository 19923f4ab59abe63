"""The edgelift NEON delegate: a C TFLite external delegate with exact int8 kernels.

The delegate is a plain shared object (`libedgelift_neon.so`) loaded by the runtime's `load_delegate`.
This module only finds the library and spells its options; it never imports TensorFlow or a runtime.

    from ai_edge_litert.interpreter import Interpreter, load_delegate
    from edgelift.delegates import neon
    delegate = load_delegate(str(neon.library_path()), neon.delegate_options(num_threads=1))
    interpreter = Interpreter(model_path="model.tflite", experimental_delegates=[delegate])
"""

from __future__ import annotations

import platform
from pathlib import Path

from edgelift.errors import DelegateError, InvalidArgumentError

LIBRARY = "libedgelift_neon.so"
KERNELS = ("auto", "scalar", "neon", "dot", "avx2")
LOG_LEVELS = ("silent", "error", "warning", "info", "debug")
# block-sparse GEMM for pruned CONV_2D / FULLY_CONNECTED: by the cost rule, never, wherever a 16x4 block is zero
SPARSE = ("auto", "off", "always")
# residual ADDs in GEMM epilogues; depthwise -> 1x1 per row band; that with the expand 1x1 in front; add + dwconv;
# add + block (src/ops/fusion.h)
FUSE = ("off", "add", "dwconv", "block", "on", "all")
ARCHES = ("x86_64", "aarch64")
_ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x86-64": "x86_64", "aarch64": "aarch64",
                 "arm64": "aarch64"}

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]  # the repository root in a checkout / editable install


def host_arch() -> str:
    """This machine's architecture as edgelift names it ('x86_64' or 'aarch64'; others as the OS says)."""
    machine = platform.machine().lower()
    return _ARCH_ALIASES.get(machine, machine)


_ELF_MACHINES = {62: "x86_64", 183: "aarch64", 40: "arm (32-bit)", 3: "x86 (32-bit)"}


def library_arch(path: str | Path) -> str:
    """Architecture a shared library was built for, read from its ELF header ('x86_64', 'aarch64', ...)."""
    path = Path(path)
    try:
        head = path.read_bytes()[:20] if path.stat().st_size < 64 else path.open("rb").read(20)
    except OSError as e:
        raise DelegateError(f"cannot read the delegate library {path}: {e.strerror or e}",
                            hint="check the path; `edgelift.delegates.neon.library_path()` finds the built one") from e
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise DelegateError(f"{path} is not an ELF shared library",
                            hint="rebuild it with `make native` or `pip install -e .`")
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    return _ELF_MACHINES.get(machine, f"ELF machine {machine}")


def check_library(path: str | Path, arch: str | None = None) -> Path:
    """Raise DelegateError unless `path` is a delegate library for `arch` (None: this machine).

    dlopen's own message for a library of the wrong architecture is "No such file or directory"; this says
    what is wrong instead.
    """
    path = Path(path)
    if not path.is_file():
        raise DelegateError(f"the delegate library {path} does not exist",
                            hint="build it with `make native`, or use edgelift.delegates.neon.library_path()")
    wanted = host_arch() if arch is None else _ARCH_ALIASES.get(str(arch).lower(), str(arch))
    found = library_arch(path)
    if found != wanted:
        where = "this machine" if arch is None else "the requested architecture"
        raise DelegateError(
            f"{path} was built for {found}, but {where} is {wanted}; it cannot be loaded here",
            hint=(f"use library_path() for {wanted}" if found == "aarch64" and wanted == host_arch()
                  else f"use library_path({wanted!r}) to get the {wanted} build"),
        )
    return path


def _candidates(arch: str) -> list[Path]:
    if arch == host_arch():
        return [_HERE / LIBRARY, _ROOT / "build" / "native" / "delegates" / "neon" / LIBRARY,
                _HERE / arch / LIBRARY, _ROOT / "build" / arch / LIBRARY]
    return [_HERE / arch / LIBRARY, _ROOT / "build" / arch / LIBRARY]


def library_path(arch: str | None = None) -> Path:
    """Path of the delegate library for `arch` (None: this machine; 'aarch64': the Raspberry Pi build).

    Raises DelegateError naming every place it looked and the command that builds the library.
    """
    wanted = host_arch() if arch is None else _ARCH_ALIASES.get(str(arch).lower())
    if wanted is None:
        raise InvalidArgumentError(
            f"unknown delegate architecture {arch!r}; allowed: {', '.join(ARCHES)} (or None for this machine)",
            hint="use arch='aarch64' for a Raspberry Pi (64-bit OS)",
        )
    candidates = _candidates(wanted)
    for path in candidates:
        if path.is_file() and library_arch(path) == wanted:
            return path
    build = "make native (or pip install -e .)" if wanted == host_arch() else "make native-aarch64"
    raise DelegateError(
        f"the NEON delegate library for {wanted} was not found; looked in: "
        + ", ".join(str(p) for p in candidates),
        hint=f"build it with `{build}` from the edgelift checkout",
    )


def delegate_options(num_threads: int = 1, kernels: str = "auto", log_level: str = "info",
                     profile: bool = False, sparse: str = "auto", fuse: str = "off") -> dict[str, str]:
    """The key/value options `load_delegate` passes to the delegate, checked here before any loading.

    `profile` brackets each node's invoke with the Pi cost meter's region markers (one failing `lseek` per
    node and edge; harmless elsewhere), so `bench --emulate` can attribute instructions to ops.
    """
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or not 1 <= num_threads <= 64:
        raise InvalidArgumentError(
            f"num_threads must be an integer from 1 to 64, got {num_threads!r}",
            hint="use num_threads=1 for reproducible timings, or the number of cores (4 on a Pi 4/5)",
        )
    if kernels not in KERNELS:
        raise InvalidArgumentError(
            f"kernels must be one of {', '.join(KERNELS)}, got {kernels!r}",
            hint="'auto' picks the best variant the CPU has; force one only for tests",
        )
    if log_level not in LOG_LEVELS:
        raise InvalidArgumentError(
            f"log_level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}",
            hint="'info' prints the one partition line per model",
        )
    if sparse not in SPARSE:
        raise InvalidArgumentError(
            f"sparse must be one of {', '.join(SPARSE)}, got {sparse!r}",
            hint="'auto' runs a pruned layer sparse where that is cheaper; 'off' keeps every layer dense",
        )
    if fuse not in FUSE:
        raise InvalidArgumentError(
            f"fuse must be one of {', '.join(FUSE)}, got {fuse!r}",
            hint="'add' computes a residual ADD in its conv's epilogue, 'dwconv' a depthwise and its 1x1 conv "
                 "per row band, 'block' the expand 1x1 in front too, 'on' add + dwconv, 'all' add + block (same "
                 "results); 'off' (the default) runs every node alone",
        )
    options = {"num_threads": str(num_threads), "kernels": kernels, "log_level": log_level}
    if sparse != "auto":
        options["sparse"] = sparse
    if fuse != "off":
        options["fuse"] = fuse
    if profile:
        options["profile"] = "1"
    return options


__all__ = [
    "ARCHES", "KERNELS", "LIBRARY", "LOG_LEVELS", "check_library", "delegate_options", "host_arch", "library_arch",
    "library_path",
]
