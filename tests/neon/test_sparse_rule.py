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


def _c_registry() -> dict[str, tuple[float, float, float, int]]:
    src = (kt.KERNELS / "qs8_spgemm_registry.c").read_text()
    header = (kt.KERNELS / "qs8_spgemm.h").read_text()
    macros = {m: float(v) for m, v in re.findall(r"#define (\w+) ([\d.]+)f?\n", header + src)}
    macros["(size_t)65535 * QS8_SPGEMM_KB"] = 65535.0 * 4
    out = {}
    for name, density, k, max_k, rows in re.findall(
            r'\{\{"(qs8_spgemm_\w+)".*?\},\s*(\w+), (\w+), ([^,]+), (\d+), [01], QS8_SPGEMM_\w+\}', src, re.S):
        out[name] = (macros.get(density), macros.get(k), macros.get(max_k), int(rows))
    return out


def test_python_constants_are_the_c_registrys():
    registry = _c_registry()
    assert {"qs8_spgemm_4x16c4__neon_mlal", "qs8_spgemm_4x16c4__neondot"} <= registry.keys(), registry
    for board, u in {**sparse_rule.KERNELS, **sparse_rule.DESKTOP}.items():
        want = (u.break_even_density, u.break_even_k, u.max_k, u.rows)
        assert registry[u.name] == want, (board, u, registry[u.name])
    assert "return u->rows;" in (kt.SRC / "ops" / "sparse_choice.c").read_text()
    assert sparse_rule.BLOCK == (16, 4)


def test_rule_edges():
    u = sparse_rule.KERNELS["rpi4"]
    line = u.break_even_density - u.break_even_k / 64
    assert sparse_rule.runs_sparse("rpi4", line, 64, 16)
    assert not sparse_rule.runs_sparse("rpi4", line + 0.01, 64, 16)
    assert not sparse_rule.runs_sparse("rpi4", 0.0, 1, 16)  # too shallow to repay the fixed cost (line < 0)
    assert not sparse_rule.runs_sparse("rpi4", 0.1, u.max_k + 1, 16)  # deeper than the kernel's tile
    assert sparse_rule.runs_sparse("rpi5", 0.2, 64, 4)
    assert not sparse_rule.runs_sparse("rpi5", 0.25, 64, 1)  # batch 1 FC: 3 of 4 tile rows wasted, 4x the density
    w = np.zeros((20, 10), np.int8)
    w[17, 9] = 1  # the last, cut block of the second (partial) column block
    assert sparse_rule.block_density(w) == 1 / 6
    w[3, 0] = w[15, 3] = 1  # one block, two non-zeros
    assert sparse_rule.block_density(w) == 2 / 6


def test_inspect_names_the_sparse_layers():
    from edgelift import inspect as inspect_model
    from edgelift.inspection import format_text

    info = inspect_model(sparse_models.tflite("gemm_net", 0.25, (16, 4)))
    gemm = [w for w in info["weights"] if w["op"] in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(gemm) == 5 and all(abs(w["block_density"] - 0.75) < 0.01 for w in gemm), gemm
    on = {w["tensor"].split("/")[1]: w["sparse_on"] for w in gemm}
    # density 0.75: under the Pi 4's and the Pi 5's line (both D = 0.95, K = 2: 0.89 at k = 32 .. 0.95)
    both = ["rpi4", "rpi5"]
    assert on == {"pw1": both, "conv3x3": both, "pw_s2": both, "pw2": both, "fc": []}, on
    # fc, batch 1: one row of a 4-row tile, 0.75 x 4 is above every line
    text = format_text(info)
    assert "block-sparse layers (NEON delegate, sparse=auto): 4 on a Pi 4, 4 on a Pi 5" in text, text
    assert "(0.75; rpi4, rpi5)" in text and "dense everywhere" in text, text
