"""TFLite's sparse tensor format (SparsityParameters) read back: per-dimension format, block map, density,
index bytes, and the dense values (the densification LiteRT's DENSIFY op performs), for `inspect`.

The stored values follow `traversal_order` (the tensor's dims, then its block dims); each level is DENSE
(dense_size entries) or SPARSE_CSR (array_segments / array_indices); block dim k splits original dim
block_map[k], so original index = outer index * block size + inner index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_DENSIFY = 1 << 22  # elements: larger tensors are described but not expanded (a Python loop per value)


@dataclass
class SparseLayout:
    formats: list[str]  # per level in traversal order: "dense" or "csr"
    traversal_order: list[int]
    block_map: list[int]
    block_shape: list[int]  # size of each block dim
    stored_values: int
    dense_elements: int
    index_bytes: int  # bytes of segments and indices (they sit in the flatbuffer, not in the buffer)

    @property
    def density(self) -> float:
        return self.stored_values / max(self.dense_elements, 1)

    def block_dims(self, rank: int) -> list[int]:
        """The block in the tensor's own dims (1 where a dim is not blocked), e.g. [1, 4]."""
        dims = [1] * rank
        for k, d in enumerate(self.block_map):
            if 0 <= d < rank:
                dims[d] = self.block_shape[k]
        return dims

    def describe(self, rank: int) -> str:
        blocks = f", {'x'.join(map(str, self.block_dims(rank)))} blocks" if self.block_map else ""
        return f"sparse {'/'.join(self.formats)}{blocks}, {self.density:.0%} stored"


def _vector(union_type: int, value) -> tuple[np.ndarray, int]:
    """(values, bytes per entry) of a SparseIndexVector union (Int32Vector, Uint16Vector, Uint8Vector)."""
    from ai_edge_litert import schema_py_generated as schema

    width = {schema.SparseIndexVector.Int32Vector: 4, schema.SparseIndexVector.Uint16Vector: 2,
             schema.SparseIndexVector.Uint8Vector: 1}.get(union_type, 0)
    vals = getattr(value, "values", None) if value is not None else None
    return np.asarray(vals if vals is not None else [], np.int64), width


def layout(sparsity, shape: tuple[int, ...], stored: int) -> SparseLayout:
    order = [int(v) for v in (sparsity.traversalOrder if sparsity.traversalOrder is not None else [])]
    bmap = [int(v) for v in (sparsity.blockMap if sparsity.blockMap is not None else [])]
    dims = sparsity.dimMetadata or []
    n = len(shape)
    formats, index_bytes = [], 0
    for d in dims:
        if int(d.format) == 0:
            formats.append("dense")
            continue
        formats.append("csr")
        seg, sw = _vector(d.arraySegmentsType, d.arraySegments)
        idx, iw = _vector(d.arrayIndicesType, d.arrayIndices)
        index_bytes += seg.size * sw + idx.size * iw
    block_shape = [int(dims[order.index(n + k)].denseSize) if n + k in order and order.index(n + k) < len(dims)
                   else 0 for k in range(len(bmap))]
    return SparseLayout(formats, order, bmap, block_shape, stored, int(np.prod(shape)) if shape else 1, index_bytes)


def densify(sparsity, shape: tuple[int, ...], values: np.ndarray) -> np.ndarray | None:
    """The dense tensor, or None when it is too large to expand here or the metadata does not add up."""
    n = len(shape)
    if not shape or int(np.prod(shape)) > MAX_DENSIFY:
        return None
    order = [int(v) for v in sparsity.traversalOrder]
    bmap = [int(v) for v in (sparsity.blockMap if sparsity.blockMap is not None else [])]
    dims = sparsity.dimMetadata
    levels = []
    for d in dims:
        if int(d.format) == 0:
            levels.append(("dense", int(d.denseSize), None, None))
        else:
            seg, _ = _vector(d.arraySegmentsType, d.arraySegments)
            idx, _ = _vector(d.arrayIndicesType, d.arrayIndices)
            levels.append(("csr", 0, seg, idx))
    block_size = {bmap[k]: levels[order.index(n + k)][1] for k in range(len(bmap))}
    out = np.zeros(shape, values.dtype)
    coord = [0] * len(order)
    try:
        def walk(level: int, pos: int) -> None:
            if level == len(levels):
                orig = [coord[d] * block_size.get(d, 1) for d in range(n)]
                for k, d in enumerate(bmap):
                    orig[d] += coord[n + k]
                out[tuple(orig)] = values[pos]
                return
            kind, size, seg, idx = levels[level]
            if kind == "dense":
                for i in range(size):
                    coord[order[level]] = i
                    walk(level + 1, pos * size + i)
            else:
                for j in range(int(seg[pos]), int(seg[pos + 1])):
                    coord[order[level]] = int(idx[j])
                    walk(level + 1, j)

        walk(0, 0)
    except (IndexError, ValueError):
        return None
    return out
