"""int8 QUANTIZE (requantize, and float32 -> int8) and DEQUANTIZE: LiteRT 2.3's optimized kernels, vector body and
scalar tail each reproduced (the bodies round differently from the tails)."""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported
from .common import quant as _q


def quantize(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    so, zo = _q(y_t)
    if y_t.type_name != "INT8":
        raise Unsupported(f"QUANTIZE to {y_t.type_name}")
    if x_t.type_name == "FLOAT32":
        # LiteRT's optimized AffineQuantize: its vector loop (first multiple of 8 elements) multiplies by the
        # float32 reciprocal and rounds half to even; the scalar tail divides in double, rounds half away.
        recip = np.float32(np.float32(1.0) / np.float32(so))
        size = int(np.prod(x_t.shape))
        tail = np.arange(size).reshape(x_t.shape) >= (size // 8) * 8

        def fn(inputs):
            x = inputs[0].astype(jnp.float32)
            v = jnp.round(x * recip).astype(jnp.int32)
            if tail.any():
                t = round_half_away(jnp, x.astype(jnp.float64) / np.float64(np.float32(so)))
                v = jnp.where(jnp.asarray(tail), t, v)
            return [jnp.clip(v + zo, -128, 127).astype(jnp.int8)]

        return fn
    if x_t.type_name == "INT8":  # requantize
        # optimized_ops::Requantize: a 16-wide vector body rounds like NEON (SQRDMULH, rounding shift), the
        # scalar tail like gemmlowp (double rounding); found by sweeping all values through both
        si, zi = _q(x_t)
        mult, shift = fp.quantize_multiplier(float(np.float64(np.float32(si)) / np.float64(np.float32(so))))
        size = int(np.prod(x_t.shape))
        tail = np.arange(size).reshape(x_t.shape) >= (size // 16) * 16

        def fn(inputs):
            x = inputs[0].astype(jnp.int64) - zi
            v = fp.mbqm(x, mult, shift, "neon")
            if tail.any():
                v = jnp.where(jnp.asarray(tail), fp.mbqm(x, mult, shift, "double"), v)
            return [jnp.clip(v + zo, -128, 127).astype(jnp.int8)]

        return fn
    raise Unsupported(f"QUANTIZE from {x_t.type_name}")


def round_half_away(jnp, v):
    """std::round on float32, exactly: truncate, then step away from zero when the fraction is >= 1/2."""
    t = jnp.trunc(v)
    frac = jnp.abs(v - t)
    return (t + jnp.where(frac >= 0.5, jnp.sign(v), 0.0)).astype(jnp.int32)


def dequantize(ctx: Ctx, op):
    """LiteRT's optimized DEQUANTIZE: q * scale + (-zp * scale) in float32 over the first multiple of 8
    elements (its vector loop), float(double(scale) * (q - zp)) over the tail; both reproduced exactly."""
    jnp = ctx.jnp
    m = ctx.model
    x_t = m.tensors[op.inputs[0]]
    if x_t.type_name != "INT8":
        raise Unsupported(f"DEQUANTIZE from {x_t.type_name}")
    si, zi = _q(x_t)
    s32 = np.float32(si)
    q = np.arange(-128, 128, dtype=np.int32)
    # tables built with numpy's IEEE float32 (XLA would contract q * s + b into one fused multiply-add)
    vec = (q.astype(np.float32) * s32 + np.float32(np.float32(-zi) * s32)).astype(np.float32)
    ref = (np.float64(s32) * (q - zi).astype(np.float64)).astype(np.float32)
    size = int(np.prod(x_t.shape))
    tail = np.arange(size).reshape(x_t.shape) >= (size // 8) * 8

    def fn(inputs):
        idx = inputs[0].astype(jnp.int32) + 128
        out = jnp.take(jnp.asarray(vec), idx, axis=0)
        if tail.any():
            out = jnp.where(jnp.asarray(tail), jnp.take(jnp.asarray(ref), idx, axis=0), out)
        return [out]

    return fn
