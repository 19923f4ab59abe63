"""The per-layer GEMM tile choice through the delegate (x86-64 build, load_delegate) against LiteRT's builtin kernels:
the partition log names the kernel of every CONV_2D / FULLY_CONNECTED node, and the outputs stay identical. On
x86-64 no variant is metered, so every node keeps the CPU's variant (the Pi's choices are tested on the emulated
Pi 4 and Pi 5: tests/emulated_pi/test_gemm_tiles_on_emulated_pi.py)."""

from __future__ import annotations

import ctypes
import re

from tests.neon import harness, tile_models

LINE = re.compile(r"GEMM kernels: (.*)")
ENTRY = re.compile(r"(\S+) \(nodes? ([\d ]+)\)")


def kernels_by_node(log: str) -> dict[int, str]:
    """{node index: kernel} from the partition log's GEMM line (empty when there is none)."""
    found = LINE.search(log)
    if found is None:
        return {}
    return {int(i): name for name, nodes in ENTRY.findall(found.group(1)) for i in nodes.split()}


def _cpu_variant(lib: str, kernels: str) -> str:
    """The variant the delegate picks for this CPU at a kernels= level without a shape (qs8_gemm_select)."""
    so = ctypes.CDLL(lib)
    so.edgelift_neon_gemm_name.restype = ctypes.c_char_p
    return so.edgelift_neon_gemm_name(kernels.encode()).decode()


def _log(model: bytes, lib: str, kernels: str, capfd) -> str:
    capfd.readouterr()
    harness.interpreter(model, lib, kernels=kernels, log_level="info")
    return capfd.readouterr().err


def test_the_log_names_every_gemm_nodes_kernel_and_outputs_stay_identical(neon_lib, capfd):
    model = tile_models.tflite()
    best = _cpu_variant(neon_lib, "auto")
    assert kernels_by_node(_log(model, neon_lib, "auto", capfd)) == {0: best, 2: best, 7: best}
    scalar = _cpu_variant(neon_lib, "scalar")
    assert kernels_by_node(_log(model, neon_lib, "scalar", capfd)) == {0: scalar, 2: scalar, 7: scalar}
    harness.assert_identical(model, neon_lib)


def test_a_model_without_a_gemm_logs_no_gemm_line(neon_lib, capfd):
    model = harness.convert("pool", kind="max", shape=(6, 6, 4))
    log = _log(model, neon_lib, "auto", capfd)
    assert "nodes delegated" in log and "GEMM kernels" not in log, log
