"""BATCH_MATMUL of int8 (per-tensor, rank 2..5, adj_x / adj_y, broadcast batch dimensions, constant or variable
RHS), as LiteRT's builtin kernel computes it: one int32 GEMM per batch matrix with both zero points applied to the
accumulator, then the rescale (the input scale product taken in float, as FULLY_CONNECTED does; the rounding
below), clamped to the whole int8 range (the op has no fused activation).

The products stay int8 x int8 (the zero points enter as row / column sums), so the "f32" accumulation splits the
reduction into chunks exactly like the convolutions (common.py).
"""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import CHUNK, Ctx, Unsupported
from .common import quant as _q

# Established against LiteRT 2.3 (tests/gpu/test_gpu_op_sweeps.py, the BATCH_MATMUL sweeps): gemmlowp's double
# rounding (RoundingDivideByPOT, ties away from zero), not FULLY_CONNECTED's SQRDMULH + rounding shift; the
# sweeps hold negative ties that tell the two apart, and ties that tell it from a single rounding
ROUNDING = "double"


def _check(x_t, y_t, o_t) -> None:
    for role, t in (("LHS", x_t), ("RHS", y_t), ("output", o_t)):
        if t.type_name != "INT8":
            raise Unsupported(f"{role} is {t.type_name} (only int8 x int8 -> int8 is lowered)")
        if t.per_channel:
            raise Unsupported(f"{role} is quantized per channel")
    for role, t in (("LHS", x_t), ("RHS", y_t)):
        if not 2 <= len(t.shape) <= 5:
            raise Unsupported(f"{role} has rank {len(t.shape)} (the builtin takes 2..5)")


def _batched_dot(ctx: Ctx, x, y):
    """x int8 (B, M, K) @ y int8 (B, K, N) -> int32 (B, M, N), exactly."""
    jnp, lax = ctx.jnp, ctx.lax
    dims = (((2,), (1,)), ((0,), (0,)))
    if ctx.accumulate == "int":
        return lax.dot_general(x, y, dims, preferred_element_type=jnp.int32)
    acc = None
    for s in range(0, x.shape[2], CHUNK):  # |x * y| <= 2^14, 1024 terms: every float32 partial sum is exact
        part = lax.dot_general(x[:, :, s:s + CHUNK].astype(jnp.float32), y[:, s:s + CHUNK].astype(jnp.float32),
                               dims, precision=lax.Precision.HIGHEST).astype(jnp.int32)
        acc = part if acc is None else acc + part
    return acc


def batch_matmul(ctx: Ctx, op):
    m = ctx.model
    jnp = ctx.jnp
    x_t, y_t, o_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    _check(x_t, y_t, o_t)
    adj_x, adj_y = bool(op.option("adjX", False)), bool(op.option("adjY", False))
    xs, ys = tuple(x_t.shape), tuple(y_t.shape)
    rank = max(len(xs), len(ys))
    x_scale, x_zp = _q(x_t)
    y_scale, y_zp = _q(y_t)
    o_scale, o_zp = _q(o_t)
    # GetQuantizedConvolutionMultipler: the two input scales multiplied in float
    real = np.float64(np.float32(x_scale) * np.float32(y_scale)) / np.float64(np.float32(o_scale))
    mult, shift = fp.quantize_multipliers(np.array([real]))
    mult, shift = int(mult[0]), int(shift[0])
    xe = (1,) * (rank - len(xs)) + xs
    ye = (1,) * (rank - len(ys)) + ys
    batch = tuple(max(a, b) for a, b in zip(xe[:-2], ye[:-2], strict=True))
    if any(a != b and 1 not in (a, b) for a, b in zip(xe[:-2], ye[:-2], strict=True)):
        raise Unsupported(f"batch dimensions {xs} and {ys} do not broadcast")
    rows, depth = (xe[-1], xe[-2]) if adj_x else (xe[-2], xe[-1])
    cols = ye[-2] if adj_y else ye[-1]
    if (ye[-1] if adj_y else ye[-2]) != depth:
        raise Unsupported(f"reduction depths differ: {xs} x {ys} (adj_x={adj_x}, adj_y={adj_y})")
    nb = int(np.prod(batch, dtype=np.int64))
    const_y = ctx.const(op.inputs[1])
    out_shape = o_t.shape
    if tuple(out_shape) != (*batch, rows, cols):
        raise Unsupported(f"output shape {out_shape} is not {(*batch, rows, cols)}")

    def operand(v, shape, adj):
        v = v.reshape(shape)
        if adj:
            v = jnp.swapaxes(v, -1, -2)
        return jnp.broadcast_to(v, (*batch, *v.shape[-2:])).reshape(nb, *v.shape[-2:])

    y_const = None
    if const_y is not None:  # the RHS (and its column sums) prepared once, like the builtin's cached transpose
        y_np = np.asarray(const_y, np.int8).reshape(ye)
        y_np = np.swapaxes(y_np, -1, -2) if adj_y else y_np
        y_const = np.ascontiguousarray(np.broadcast_to(y_np, (*batch, depth, cols)).reshape(nb, depth, cols))

    def fn(inputs):
        x = operand(inputs[0], xe, adj_x)
        y = jnp.asarray(y_const) if y_const is not None else operand(inputs[1], ye, adj_y)
        # sum_k (x - zx)(y - zy) = x.y - zy * rowsum(x) - zx * colsum(y) + K * zx * zy
        acc = _batched_dot(ctx, x, y)
        if y_zp:
            acc = acc - y_zp * x.astype(jnp.int32).sum(axis=2, keepdims=True)
        if x_zp:
            acc = acc - x_zp * y.astype(jnp.int32).sum(axis=1, keepdims=True)
        acc = acc + depth * x_zp * y_zp
        v = fp.mbqm(acc, mult, shift, ROUNDING) + o_zp
        return [jnp.clip(v, -128, 127).astype(jnp.int8).reshape(out_shape)]

    return fn


LOWERINGS = {"BATCH_MATMUL": batch_matmul}
