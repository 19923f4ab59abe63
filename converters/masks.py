"""Magnitude masks in numpy: unstructured, N:M and RxC blocks, on a Keras kernel.

Structured masks are computed in the layout TFLite stores the weight in (output channels first, input
channels last: CONV_2D [O, KH, KW, I], FULLY_CONNECTED [O, I]), so the zeros a kernel can skip in the
.tflite are exactly the ones chosen here. A block is R output channels x C consecutive input channels at
one kernel position: an int8 GEMM microkernel that walks input channels can skip it whole.
"""

from __future__ import annotations

import numpy as np

from edgelift.errors import UnsupportedModelError


def to_oki(kernel: np.ndarray) -> np.ndarray:
    """Keras kernel ([I, O], [K, I, O] or [KH, KW, I, O]) -> [O, positions, I]."""
    if kernel.ndim == 2:
        return kernel.T[:, None, :]
    o = kernel.shape[-1]
    i = kernel.shape[-2]
    moved = np.moveaxis(kernel, -1, 0)  # [O, ..., I]
    return moved.reshape(o, -1, i)


def from_oki(oki: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if len(shape) == 2:
        return oki[:, 0, :].T.reshape(shape)
    moved = oki.reshape((shape[-1], *shape[:-1]))
    return np.moveaxis(moved, 0, -1)


def unstructured(kernel: np.ndarray, sparsity: float) -> np.ndarray:
    """Mask (same shape, 0/1) zeroing the round(sparsity*n) smallest-magnitude weights."""
    flat = np.abs(kernel).reshape(-1)
    k = int(round(sparsity * flat.size))
    mask = np.ones(flat.size, dtype=kernel.dtype)
    if k > 0:
        mask[np.argsort(flat, kind="stable")[:k]] = 0
    return mask.reshape(kernel.shape)


def m_by_n(kernel: np.ndarray, m: int = 2, n: int = 4, layer: str = "?") -> np.ndarray:
    """Mask keeping the n-m largest of every n consecutive input channels (TFLite's last axis)."""
    oki = to_oki(kernel)
    i = oki.shape[-1]
    if i % n:
        raise UnsupportedModelError(
            f"layer {layer!r} has {i} input channels per output; {m}:{n} sparsity needs a multiple of {n}",
            hint=f"keep {layer!r} dense with --keep-dense {layer}, or use --prune-kind unstructured",
        )
    groups = np.abs(oki).reshape(oki.shape[0], oki.shape[1], i // n, n)
    order = np.argsort(groups, axis=-1, kind="stable")
    mask = np.ones_like(groups, dtype=kernel.dtype)
    np.put_along_axis(mask, order[..., :m], 0, axis=-1)
    return from_oki(mask.reshape(oki.shape), kernel.shape)


def block(kernel: np.ndarray, sparsity: float, rows: int, cols: int, layer: str = "?") -> np.ndarray:
    """Mask zeroing whole blocks of `rows` output channels x `cols` input channels, smallest RMS first.

    The output side may end in a partial block (24 channels in 16x4 blocks: one of 16, one of 8), as the sparse
    kernels pad the last column block of a layer; RMS, not L2, so that short block is ranked like the others.
    The input side must divide: a block there would straddle two kernel positions."""
    oki = to_oki(kernel)
    o, p, i = oki.shape
    if i % cols:
        raise UnsupportedModelError(
            f"layer {layer!r} has {o} output x {i} input channels; {rows}x{cols} blocks need a multiple of "
            f"{cols} input channels",
            hint=f"choose --block whose second side divides {i}, or keep {layer!r} dense with --keep-dense {layer}",
        )
    ob = -(-o // rows)
    padded = np.zeros((ob * rows, p, i), np.float64)
    padded[:o] = oki
    blocks = padded.reshape(ob, rows, p, i // cols, cols)
    real = np.minimum(rows, o - np.arange(ob) * rows)[:, None, None] * cols  # elements per block
    norms = np.sqrt((blocks ** 2).sum(axis=(1, 4)) / real)  # [O/r, P, I/c]
    k = int(round(sparsity * norms.size))
    keep = np.ones(norms.size, dtype=kernel.dtype)
    if k > 0:
        keep[np.argsort(norms.reshape(-1), kind="stable")[:k]] = 0
    keep = keep.reshape(norms.shape)[:, None, :, :, None]
    mask = np.broadcast_to(keep, blocks.shape).reshape(ob * rows, p, i)[:o]
    return from_oki(np.ascontiguousarray(mask), kernel.shape)


def make(kernel: np.ndarray, kind: str, sparsity: float, block_shape: tuple[int, int], layer: str) -> np.ndarray:
    if kind == "unstructured":
        return unstructured(kernel, sparsity)
    if kind == "2:4":
        return m_by_n(kernel, 2, 4, layer)
    return block(kernel, sparsity, block_shape[0], block_shape[1], layer)
