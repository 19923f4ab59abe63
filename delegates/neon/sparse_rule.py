"""Which CONV_2D / FULLY_CONNECTED layers the NEON delegate runs block-sparse on a Raspberry Pi, predicted on the
desktop (for `inspect` and `convert`'s report) by the rule the delegate applies at prepare
(src/ops/sparse_choice.c with the break-even densities of src/kernels/qs8_spgemm_registry.c; the constants here
are checked against those sources by tests/neon/test_sparse_rule.py).

A layer runs sparse when its weights' 16x4 block density (blocks of 16 output channels, from a multiple of 16,
x 4 consecutive values of the flattened reduction, as the kernels read them), times the share of its row tiles
left partly empty, is at most the board's break-even line D - K / k, and its reduction depth k fits the kernel
(and, on the Pi 4, no weight is -128).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = (16, 4)  # the sparse kernels' block: 16 output channels x 4 input values; 16x8, 32x4... are unions of it


@dataclass(frozen=True)
class SparseKernel:
    name: str
    break_even_density: float
    break_even_k: float
    rows: int   # rows of A per tile (m is rounded up to it)
    max_k: int
    no_minus128: bool = False  # two products per int16 lane: a -128 weight sends the layer to the dense kernel


# board -> the variant `kernels=auto` picks there (Pi 4: ARMv8.0 NEON, Pi 5: dot product)
KERNELS = {
    "rpi4": SparseKernel("qs8_spgemm_4x16c4__neon_mlal", 0.95, 2.0, 4, 4096, no_minus128=True),
    "rpi5": SparseKernel("qs8_spgemm_4x16c4__neondot", 0.95, 2.0, 4, 4096),
}
# the desktop build (x86-64 with AVX2): not a board the report predicts for, the rule the desktop delegate applies
DESKTOP = {"x86-64": SparseKernel("qs8_spgemm_4x16c4__avx2", 0.60, 0.0, 4, 65535 * 4)}


def block_density(weights: np.ndarray) -> float:
    """Share of the 16x4 blocks of a [O, ...] weight tensor (O padded to 16, the flattened rest to 4) that hold a
    non-zero (1.0 for dense weights)."""
    rows, cols = BLOCK
    mat = np.asarray(weights).reshape(weights.shape[0], -1)
    mat = np.pad(mat, ((0, (-mat.shape[0]) % rows), (0, (-mat.shape[1]) % cols)))
    blocks = mat.reshape(mat.shape[0] // rows, rows, -1, cols)
    return float((blocks != 0).any(axis=(1, 3)).mean()) if blocks.size else 1.0


def runs_sparse(board: str, density: float, k: int, m: int, minus128: bool = False) -> bool:
    """The delegate's rule with sparse=auto on `board` (or "x86-64": the desktop build on a CPU with AVX2) for a
    GEMM of m rows x depth k at this block density (minus128: some weight is -128)."""
    u = KERNELS[board] if board in KERNELS else DESKTOP[board]
    if k > u.max_k or (minus128 and u.no_minus128):
        return False
    waste = -(-m // u.rows) * u.rows / m if m > 0 else 1.0
    return density * waste <= u.break_even_density - u.break_even_k / k


def gemm_shape(op_name: str, weight_shape: list[int], input_shape: list[int],
               output_shape: list[int]) -> tuple[int, int] | None:
    """(k, m) of a CONV_2D (not grouped) or FULLY_CONNECTED node as conv.c computes them, else None."""
    if op_name == "CONV_2D" and len(weight_shape) == 4 and len(output_shape) == 4:
        if input_shape and input_shape[-1] != weight_shape[3]:
            return None  # grouped: not a GEMM
        return weight_shape[1] * weight_shape[2] * weight_shape[3], output_shape[1] * output_shape[2]
    if op_name == "FULLY_CONNECTED" and len(weight_shape) == 2 and weight_shape[1] > 0:
        return weight_shape[1], int(np.prod(input_shape or [1])) // weight_shape[1]
    return None


def predict(op_name: str, weights: np.ndarray, input_shape: list[int], output_shape: list[int]) -> dict | None:
    """{'block_density': d, 'sparse_on': [boards]} for a GEMM layer with int8 weights, else None."""
    shape = gemm_shape(op_name, list(weights.shape), list(input_shape), list(output_shape))
    if shape is None or weights.dtype != np.int8:
        return None
    d = block_density(weights)
    minus128 = bool((weights == -128).any())
    return {"block_density": d, "sparse_on": [b for b in KERNELS if runs_sparse(b, d, *shape, minus128)]}
