"""Fixtures for the NEON delegate tests: the built libraries (x86-64 release, aarch64 cross, ASan+UBSan)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def neon_lib() -> str:
    """The x86-64 delegate library; `make native` (or pip install) builds it. Missing = a failed build."""
    from edgelift.delegates import neon

    return str(neon.library_path())


@pytest.fixture(scope="session")
def neon_lib_aarch64() -> Path:
    from edgelift.delegates import neon

    return neon.library_path("aarch64")


@pytest.fixture(scope="session")
def neon_lib_asan() -> Path:
    path = ROOT / "build" / "asan" / "libedgelift_neon.so"
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with `make native-asan` (part of `make native`)")
    return path
