"""int8 ADD and MUL lowerings: LiteRT's optimized kernels' arithmetic, code path by code path (broadcast.py)."""

from __future__ import annotations

import numpy as np

from . import broadcast
from . import fixedpoint as fp
from .common import Ctx, Unsupported
from .common import fused_activation as _fused
from .common import quant as _q

ROUNDING = "double"  # gemmlowp's high multiply and rounding divide (established against LiteRT 2.3)


def _paths(ctx: Ctx, op, scalar_width: int) -> np.ndarray:
    """Per output element, the code path of LiteRT's optimized kernel that computes it (broadcast.path_map)."""
    m = ctx.model
    a_t, b_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    return broadcast.path_map(a_t.shape, b_t.shape, y_t.shape, scalar_width)


def _wrap16(jnp, v):
    return ((v + (1 << 15)) & 0xFFFF) - (1 << 15)


def _narrow(jnp, v, zo, lo, hi, saturate: bool):
    """The vector bodies' int8 store: to int16 (truncating for ADD, saturating for MUL), + zero point in int16
    (wrapping), saturate to int8, then the activation clamp. Differs from the tails' int32 clamp only for
    values far outside the int8 range."""
    n = jnp.clip(v, -(1 << 15), (1 << 15) - 1) if saturate else _wrap16(jnp, v)
    return jnp.clip(jnp.clip(_wrap16(jnp, n + zo), -128, 127), lo, hi)


def add(ctx: Ctx, op):
    """LiteRT's optimized int8 ADD, path by path (broadcast.py): its elementwise vector body folds each input's
    rescale shift into the left shift before the high multiply (one rounding); its scalar-broadcast vector body
    shifts right truncating after it; the tails and the reference loop divide rounding (two roundings)."""
    m = ctx.model
    jnp = ctx.jnp
    a_t, b_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    (s1, z1), (s2, z2), (so, zo) = _q(a_t), _q(b_t), _q(y_t)
    lo, hi = fp.activation_range(_fused(op), so, zo)
    left_shift = 20
    twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    m1, sh1 = fp.quantize_multiplier(float(np.float32(s1)) / twice_max)
    m2, sh2 = fp.quantize_multiplier(float(np.float32(s2)) / twice_max)
    mo, sho = fp.quantize_multiplier(twice_max / ((1 << left_shift) * float(np.float32(so))))
    if sho > 0:
        raise Unsupported("ADD output multiplier >= 1 (TFLite's kernel refuses it too)")
    paths = _paths(ctx, op, scalar_width=8)
    present = set(np.unique(paths).tolist())
    r = ROUNDING

    def rescale(x, zp, mult, shift):
        v = x.astype(jnp.int64) - zp
        out = {}
        if broadcast.VECTOR in present:  # one rounding: VSHL by left_shift + shift, then the high multiply
            c = left_shift + shift
            out[broadcast.VECTOR] = fp.mbqm(v << c if c >= 0 else v >> -c, mult, 0, r)
        hi_ = fp.mbqm(v << left_shift, mult, 0, r) if present - {broadcast.VECTOR} else None
        if broadcast.SCALAR_VECTOR in present:  # the high multiply, then a truncating VSHL
            out[broadcast.SCALAR_VECTOR] = hi_ >> -shift
        if broadcast.REFERENCE in present:
            out[broadcast.REFERENCE] = fp.rdbpot(hi_.astype(jnp.int64), -shift)
        return out

    def fn(inputs):
        ra, rb = rescale(inputs[0], z1, m1, sh1), rescale(inputs[1], z2, m2, sh2)
        result = None
        for path in sorted(present):
            v = fp.mbqm(ra[path].astype(jnp.int64) + rb[path].astype(jnp.int64), mo, sho, r).astype(jnp.int64)
            v = jnp.clip(v + zo, lo, hi) if path == broadcast.REFERENCE else _narrow(jnp, v, zo, lo, hi, False)
            result = v if result is None else jnp.where(jnp.asarray(paths == path), v, result)
        return [jnp.broadcast_to(result, y_t.shape).astype(jnp.int8)]

    return fn


def mul(ctx: Ctx, op):
    """LiteRT's optimized int8 MUL: the multiplier from the float32 product and quotient of the scales
    (mul.cc); one rounding rule everywhere, but the vector bodies saturate to int16 before the zero point."""
    m = ctx.model
    jnp = ctx.jnp
    a_t, b_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    (s1, z1), (s2, z2), (so, zo) = _q(a_t), _q(b_t), _q(y_t)
    lo, hi = fp.activation_range(_fused(op), so, zo)
    real = float(np.float32(np.float32(s1) * np.float32(s2)) / np.float32(so))
    mo, sho = fp.quantize_multiplier(real)
    paths = _paths(ctx, op, scalar_width=16)
    vector = paths != broadcast.REFERENCE

    def fn(inputs):
        p = (inputs[0].astype(jnp.int64) - z1) * (inputs[1].astype(jnp.int64) - z2)
        v = fp.mbqm(p, mo, sho, ROUNDING).astype(jnp.int64)
        out = jnp.clip(v + zo, lo, hi)
        if vector.any():
            out = jnp.where(jnp.asarray(vector), _narrow(jnp, v, zo, lo, hi, True), out)
        return [jnp.broadcast_to(out, y_t.shape).astype(jnp.int8)]

    return fn
