"""The desktop's prediction of which layers run block-sparse on a Pi (edgelift.delegates.neon.sparse_rule, used
by `inspect` and `convert`'s report) is the delegate's own rule: its constants equal those of the C registry and
sparse_choice.c, its block density equals what the delegate logs (tests/neon/test_sparse_ops.py checks the log
against the file), and `inspect` names the sparse layers of a pruned model."""

from __future__ import annotations

import re

import numpy as np

from edgelift.delegates.neon import sparse_rule
from tests.neon import kernel_tester as kt
from tests.neon import sparse_models


def _c_registry() -> dict[str, tuple[float, int]]:
    src = (kt.KERNELS / "qs8_spgemm_registry.c").read_text()
    header = (kt.KERNELS / "qs8_spgemm.h").read_text()
    macros = {m: float(v) for m, v in re.findall(r"#define (\w+) ([\d.]+)f?\n", header + src)}
    out = {}
    for name, density, k, max_k in re.findall(r'\{\{"(qs8_spgemm_\w+)".*?\},\s*(\w+), (\w+), ([^,]+), [01]\}',
                                             src, re.S):
        out[name] = (macros.get(density), macros.get(k), macros.get(max_k))
    return out


def test_python_constants_are_the_c_registrys():
    registry = _c_registry()
    assert {"qs8_spgemm_16x4__neon_mlal", "qs8_spgemm_32x4__neondot"} <= registry.keys(), registry
    for board, u in sparse_rule.KERNELS.items():
        assert registry[u.name] == (u.break_even_density, u.break_even_k, u.max_k), (board, u, registry[u.name])
    rows = (kt.SRC / "ops" / "sparse_choice.c").read_text()
    assert "EL_CPU_DOTPROD) return 32;" in rows and "return u->gemm.required_features != 0 ? 16 : 1;" in rows
    assert sparse_rule.KERNELS["rpi5"].rows == 32 and sparse_rule.KERNELS["rpi4"].rows == 16


def test_rule_edges():
    u = sparse_rule.KERNELS["rpi4"]
    line = u.break_even_density - u.break_even_k / 64
    assert sparse_rule.runs_sparse("rpi4", line, 64, 16)
    assert not sparse_rule.runs_sparse("rpi4", line + 0.01, 64, 16)
    assert not sparse_rule.runs_sparse("rpi4", 0.0, 16, 16)  # too shallow to repay the fixed cost
    assert not sparse_rule.runs_sparse("rpi4", 0.1, u.max_k + 1, 16)  # deeper than the kernel's tile
    assert not sparse_rule.runs_sparse("rpi5", 0.1, 64, 1)  # batch 1 FC: 15 of 16 tile rows wasted
    w = np.zeros((2, 10), np.int8)
    w[0, 9] = 1  # the last, cut block
    assert sparse_rule.block_density(w) == 1 / 6


def test_inspect_names_the_sparse_layers():
    from edgelift import inspect as inspect_model
    from edgelift.inspection import format_text

    info = inspect_model(sparse_models.tflite("gemm_net", 0.9, (1, 8)))
    gemm = [w for w in info["weights"] if w["op"] in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(gemm) == 5 and all(abs(w["block_density"] - 0.1) < 0.02 for w in gemm), gemm
    on = {w["tensor"].split("/")[1]: w["sparse_on"] for w in gemm}
    assert on["conv3x3"] == ["rpi4", "rpi5"], on  # k = 288 at density 0.1: well under both lines
    assert on["pw1"] == [], on  # k = 32: too shallow to repay the per-output cost on either board
    assert on["fc"] == [], on  # batch 1: one row of a 16- or 32-row tile
    n4, n5 = (sum(b in v for v in on.values()) for b in ("rpi4", "rpi5"))
    text = format_text(info)
    assert f"block-sparse layers (NEON delegate, sparse=auto): {n4} on a Pi 4, {n5} on a Pi 5" in text, text
    assert "(0.10; rpi4, rpi5)" in text and "dense everywhere" in text, text
