"""Fixtures of the cost meter's tests: its host tools (skipped where they are not installed) and a static aarch64
guest with known instruction counts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from edgelift.device.emulate import tools
from edgelift.errors import ToolUnavailableError
from tests.artefacts import missing

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def meter_tools() -> tools.Tools:
    try:
        return tools.find_tools()
    except ToolUnavailableError as exc:
        missing(f"a cost meter tool ({exc})", "`make system-deps emulate-tools` installs and builds them")


@pytest.fixture(scope="session")
def marked_loop(tmp_path_factory) -> Path:
    cc = shutil.which("aarch64-linux-gnu-gcc")
    if cc is None:
        missing("aarch64-linux-gnu-gcc", "Debian gcc-aarch64-linux-gnu: `make system-deps` installs it")
    out = tmp_path_factory.mktemp("guest") / "marked_loop"
    subprocess.run([cc, "-O2", "-static", "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-o",
                    str(out), str(HERE / "marked_loop.c")], check=True)
    return out
