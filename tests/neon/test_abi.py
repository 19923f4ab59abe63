"""The load-time ABI check: a runtime whose TfLiteTensor differs in size from the pinned runtimes' is refused
with a message through its error reporter, instead of being read with the wrong layout.

tests/neon/abi_probe.c plays the runtime (compiled here with gcc) and hands the delegate's Prepare a context
whose tensor table has the pinned layout, or a stride 8 bytes larger or smaller.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "delegates" / "neon" / "src"


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("abi") / "abi_probe"
    subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", f"-I{SRC}",
                    str(HERE / "abi_probe.c"), "-o", str(exe), "-ldl"], check=True, capture_output=True)
    return exe


def _run(probe: Path, library: str, layout: str) -> dict[str, str]:
    out = subprocess.run([str(probe), library, layout], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)


def test_pinned_layout_is_accepted(probe, neon_lib):
    result = _run(probe, neon_lib, "good")
    assert result["status"] == "0", result
    assert result["reported"] == ""


@pytest.mark.parametrize("layout", ["bigger-tensor", "smaller-tensor"])
def test_other_tensor_layout_is_refused(probe, neon_lib, layout):
    result = _run(probe, neon_lib, layout)
    assert result["status"] == "2", result  # kTfLiteDelegateError: the runtime keeps its own kernels
    assert "refusing to run: this TFLite runtime does not match the ABI" in result["reported"]
    assert "TfLiteTensor layout" in result["reported"]
