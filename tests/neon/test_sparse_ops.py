"""Block-pruned models through the NEON delegate (x86-64 build, load_delegate) against LiteRT's builtin kernels,
zero tolerance: every GEMM path of conv.c (1x1 direct, 3x3 and strided 1x1 through im2col, FULLY_CONNECTED) with
weights pruned by `convert`'s own block mask (16x4, 16x8, 32x4) run sparse (sparse=always: the AVX2 sparse
variant, the portable one on a CPU without AVX2), by the cost rule (auto: the nodes sparse_rule predicts for
x86-64) and dense (off). The partition log names the nodes that run sparse and their
16x4 block density, which must be the density of the weights in the file."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgelift.delegates.neon import sparse_rule
from edgelift.tflite_model import load
from tests.neon import harness, sparse_models

SPARSE_LINE = re.compile(r"block-sparse GEMM \((\S+)\) on (\d+) of (\d+) CONV_2D/FULLY_CONNECTED nodes, 16x4 block "
                         r"density: (.*)")
CASES = [(0.75, (16, 4)), (0.9, (16, 8)), (0.5, (32, 4))]
AVX2 = "avx2" in open("/proc/cpuinfo").read().split()  # what the delegate's CPUID check finds here too


def _interpreter(model: bytes, lib: str, sparse: str):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    d = load_delegate(lib, {"log_level": "info", "sparse": sparse})
    it = Interpreter(model_content=model, experimental_delegates=[d],
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    return it


def _block_densities(model: bytes) -> dict[int, float]:
    """node index -> share of the 16x4 blocks (16 output channels x 4 of the flattened reduction, as the kernels
    see it) that hold a non-zero, for every CONV_2D / FULLY_CONNECTED of the file (numpy, not the delegate)."""
    m = load(model)
    out = {}
    for op in m.operators:
        if op.op_name not in ("CONV_2D", "FULLY_CONNECTED"):
            continue
        w = m.tensors[op.inputs[1]].data.reshape(m.tensors[op.inputs[1]].shape)
        mat = w.reshape(w.shape[0], -1)
        mat = np.pad(mat, ((0, (-mat.shape[0]) % 16), (0, (-mat.shape[1]) % 4)))
        blocks = mat.reshape(mat.shape[0] // 16, 16, -1, 4)
        out[op.index] = float((blocks != 0).any(axis=(1, 3)).mean())
    return out


def _x86_sparse_nodes(model: bytes, density: dict[int, float]) -> set[int]:
    """The nodes sparse=auto runs sparse on this x86-64 CPU (none without AVX2: the portable variant never is)."""
    m = load(model)
    out = set()
    for op in m.operators:
        if op.index in density and AVX2:
            shape = sparse_rule.gemm_shape(op.op_name, list(m.tensors[op.inputs[1]].shape),
                                           list(m.tensors[op.inputs[0]].shape), list(m.tensors[op.outputs[0]].shape))
            if shape is not None and sparse_rule.runs_sparse("x86-64", density[op.index], *shape):
                out.add(op.index)
    return out


@pytest.mark.parametrize("sparsity,block", CASES, ids=[f"{s}-{b[0]}x{b[1]}" for s, b in CASES])
def test_pruned_gemm_paths_identical_to_builtin_sparse_or_dense(sparsity, block, neon_lib, capfd):
    model = sparse_models.tflite("gemm_net", sparsity, block)
    ref = harness.interpreter(model)
    want_density = _block_densities(model)
    want_auto = _x86_sparse_nodes(model, want_density)
    variant = "qs8_spgemm_4x16c4__avx2" if AVX2 else "qs8_spgemm_1x16c4__scalar"
    assert len(want_density) == 5 and max(want_density.values()) <= 1 - sparsity + 0.04, want_density
    for sparse in ("always", "auto", "off"):
        capfd.readouterr()
        it = _interpreter(model, neon_lib, sparse)
        log = capfd.readouterr().err
        found = SPARSE_LINE.search(log)
        if sparse == "always":
            assert found, log
            name, n_sparse, n_gemm, nodes = found.groups()
            assert name == variant and n_sparse == n_gemm == "5", found.group(0)
            logged = {int(i): float(d) for i, d in re.findall(r"node (\d+) \S+ ([\d.]+)", nodes)}
            assert logged.keys() == want_density.keys(), (logged, want_density)
            assert all(abs(logged[i] - want_density[i]) <= 0.005 + 1e-9 for i in logged), (logged, want_density)
        elif sparse == "auto" and not want_auto:
            assert "block-sparse GEMM on 0 of 5" in log and "5 have zero 16x4 blocks" in log, log
        elif sparse == "auto":  # the rule's nodes, no others
            assert found and found.group(1) == variant and found.group(2) == str(len(want_auto)), log
            assert {int(i) for i in re.findall(r"node (\d+) ", found.group(4))} == want_auto, (found.group(0),
                                                                                             want_auto)
        else:
            assert "block-sparse" not in log, log
        for seed in range(3):
            xs = harness.inputs_for(ref, seed)
            for want, got in zip(harness.run(ref, xs), harness.run(it, xs), strict=True):
                assert np.array_equal(want, got), (
                    f"sparse={sparse}, seed {seed}: {int((want != got).sum())} of {want.size} values differ")


def test_a_dense_model_logs_no_sparse_line(neon_lib, capfd):
    model = harness.convert("conv2d", shape=(6, 6, 8), filters=8, kernel=1)
    capfd.readouterr()
    _interpreter(model, neon_lib, "auto")
    log = capfd.readouterr().err
    assert "nodes delegated" in log and "sparse" not in log, log
