"""What the suite needs is a requirement, not an option: `make test` builds or installs every artefact (the
delegate for x86-64 and aarch64, the ASan build, qemu, OpenSSH, the cross compiler, llvm, JAX), so a missing one
fails the test that needs it, naming how to get it; it never skips (a skip would leave a broken Pi build green).
Skips remain only for conditions of the machine (a CPU that has NEON, no CUDA GPU)."""

from __future__ import annotations

import pytest


def missing(what: str, how: str):
    """Fail the calling test: `what` is missing; `how` says which command or package provides it."""
    pytest.fail(f"{what} is missing — {how}", pytrace=False)


def jax():
    """The jax module (a dev dependency: `make test` installs it)."""
    try:
        import jax as module
    except ImportError:
        missing("JAX", "it is a dev dependency: `make test` (or pip install -e '.[dev]') installs it")
    return module
