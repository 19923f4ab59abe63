"""sdk/tflite_sparse: TFLite's sparse format written by hand (tests/tflite_edit.block_sparse, CSR over 1x4 or
4x1 blocks) densifies back to the dense weights; bad metadata gives None, not a crash."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from edgelift.tflite_model import load
from edgelift.tflite_sparse import densify, layout
from tests import sparse_models, tflite_edit


def _with_zeros(content: bytes, name_part: str, block: tuple[int, int], seed: int) -> tuple[bytes, np.ndarray]:
    """Zero random blocks of one dense weight; returns the file and the weight as TFLite stores it."""
    m = schema.ModelT.InitFromPackedBuf(content, 0)
    (t,) = [t for t in m.subgraphs[0].tensors if name_part in t.name.decode() and m.buffers[t.buffer].data
            is not None and len(t.shape) == 2]
    w = np.asarray(m.buffers[t.buffer].data, np.uint8).view(np.float32).reshape(t.shape).copy()
    r, c = block
    keep = np.random.default_rng(seed).random((w.shape[0] // r, w.shape[1] // c)) < 0.4
    w *= np.kron(keep, np.ones(block, np.float32))
    m.buffers[t.buffer].data = w.view(np.uint8).ravel()
    return tflite_edit._pack(m), w


@pytest.mark.parametrize("block", [(1, 4), (4, 1), (2, 2)])
def test_densify_round_trip(block):
    content, w = _with_zeros(sparse_models.sparse_fc("float"), "fc2", block, seed=sum(block))
    sparse, kept = tflite_edit.block_sparse(content, "fc2", block)
    m = load(sparse)
    (t,) = [t for t in m.tensors if t.sparsity is not None and "fc2" in t.name]
    lay = layout(t.sparsity, t.shape, int(t.data.size))
    assert lay.formats == ["dense", "csr", "dense", "dense"] and lay.block_dims(2) == list(block)
    assert lay.density == pytest.approx(kept) and 0 < kept < 1
    assert np.array_equal(densify(t.sparsity, t.shape, t.data), w)


def test_inconsistent_indices_give_none():
    content, _ = _with_zeros(sparse_models.sparse_fc("float"), "fc2", (1, 4), seed=0)
    sparse, _ = tflite_edit.block_sparse(content, "fc2", (1, 4))
    m = load(sparse)
    (t,) = [t for t in m.tensors if t.sparsity is not None and "fc2" in t.name]
    assert densify(t.sparsity, t.shape, t.data[: t.data.size // 2]) is None  # values cut short
