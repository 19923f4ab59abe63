"""REDUCE_MAX and SUM of int8 over constant axes.

REDUCE_MAX: LiteRT's int8 kernel takes the maximum of the raw values (no rescale), so it is lowered only when
input and output quantization are equal.
SUM: LiteRT 2.3 requantizes every int8 SUM, equal quantization included (tests/opcatalogue.py's SUM sweeps):
the raw int32 sum S, then round(f32(S) * scale + bias) in float32 (scale = si / so, bias = -zi * scale * n,
round half away from zero) + zo, clamped. That is a non-decreasing step function of S, so it is lowered as its
255 steps (the least S reaching each output value, found here with the builtin's float32 arithmetic): at run
time an integer sum and a search in that table, exact on any device (no float rounding or FMA left to it)."""

from __future__ import annotations

import numpy as np

from .common import Ctx, Unsupported, quant


def reduce_max(ctx: Ctx, op):
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if quant(x_t) != quant(y_t):
        raise Unsupported("input and output quantization differ")
    axes = ctx.const(op.inputs[1])
    if axes is None:
        raise Unsupported("the axes must be constant")
    r = len(x_t.shape)
    axes = tuple(sorted({int(a) % r for a in np.atleast_1d(axes)}))
    keep = bool(op.option("keepDims", False))
    jnp = ctx.jnp

    def fn(inputs):
        return [jnp.max(inputs[0], axis=axes, keepdims=keep)]

    return fn


def _resolved_axes(ctx: Ctx, op, rank: int) -> tuple[int, ...]:
    axes = ctx.const(op.inputs[1])
    if axes is None:
        raise Unsupported("the axes must be constant")
    raw = [int(a) for a in np.atleast_1d(axes).ravel()]
    if any(not -rank <= a < rank for a in raw):
        raise Unsupported(f"axes {raw} out of range for a rank-{rank} input")
    return tuple(sorted({a % rank for a in raw}))


def sum_steps(si: float, zi: int, so: float, zo: int, n: int) -> np.ndarray:
    """The int32 thresholds t[k] (k = 0..254): the builtin's SUM output is -128 + #{k: S >= t[k]}."""
    f32 = np.float32
    scale = f32(si) / f32(so)
    bias = f32(f32(f32(-zi) * scale) * f32(n))

    def out(s):  # the builtin's output for int64 sums s, float32 step by step (numpy: no FMA)
        v = f32(np.asarray(s).astype(np.float32) * scale) + bias
        r = np.trunc(v) + np.where(np.abs(v - np.trunc(v)) >= 0.5, np.sign(v), 0)
        return np.clip(r.astype(np.int64) + zo, -128, 127)

    levels = np.arange(-127, 128)
    lo = np.full(levels.shape, -128 * n, np.int64)      # out(lo) < level unless lo is the domain's start
    hi = np.full(levels.shape, 127 * n + 1, np.int64)   # out(hi) >= level (one past the domain: never reached)
    lo -= 1
    while np.any(hi - lo > 1):  # bisection on the monotone step function, all levels at once
        mid = (lo + hi) // 2
        up = out(mid) >= levels
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return hi.astype(np.int32)


def sum_(ctx: Ctx, op):
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    shape = tuple(x_t.shape)
    axes = _resolved_axes(ctx, op, len(shape))
    if not axes:
        raise Unsupported("SUM over no axis (the builtin's copy path)")
    if 0 in shape:
        raise Unsupported("an empty input")
    n = int(np.prod([shape[a] for a in axes]))
    if int(np.prod(shape)) > 1 << 23:
        raise Unsupported("more than 2^23 elements (the int32 sum could overflow)")
    (si, zi), (so, zo) = quant(x_t), quant(y_t)
    steps = sum_steps(si, zi, so, zo, n)
    keep = bool(op.option("keepDims", False))
    jnp = ctx.jnp

    def fn(inputs):
        s = inputs[0].astype(jnp.int32).sum(axis=axes, keepdims=keep)
        count = jnp.searchsorted(jnp.asarray(steps), s, side="right")
        return [(count - 128).astype(jnp.int8)]

    return fn


LOWERINGS = {"REDUCE_MAX": reduce_max, "SUM": sum_}
