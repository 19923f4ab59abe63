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


def _reference_multipliers(op_name: str, s1, s2, so):
    """SUB (left shift 20) and SQUARED_DIFFERENCE (left shift 7, squared): PrepareGeneralSubOp's and
    squared_difference.cc's multipliers; each must be < 1 (the kernels shift by a negative amount otherwise)."""
    f32 = np.float32
    twice = float(f32(2) * max(f32(s1), f32(s2)))
    out = twice / float(f32(1 << 20) * f32(so)) if op_name == "SUB" else twice * twice / float(f32(1 << 14) * f32(so))
    ms = [fp.quantize_multiplier(float(f32(s1)) / twice), fp.quantize_multiplier(float(f32(s2)) / twice),
          fp.quantize_multiplier(out)]
    if any(shift > 0 for _, shift in ms):
        raise Unsupported(f"{op_name} with a multiplier >= 1 (LiteRT's kernel shifts by a negative amount there)")
    return ms, 20 if op_name == "SUB" else 7


def _rescaled_difference(ctx: Ctx, op):
    """reference_ops::Sub / BroadcastQuantSubSlow and SquaredDifference: one rule at every element (double
    rounding), whatever the broadcast."""
    m = ctx.model
    jnp = ctx.jnp
    a_t, b_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    (s1, z1), (s2, z2), (so, zo) = _q(a_t), _q(b_t), _q(y_t)
    square = op.op_name == "SQUARED_DIFFERENCE"
    lo, hi = (-128, 127) if square else fp.activation_range(_fused(op), so, zo)
    ((m1, e1), (m2, e2), (mo, eo)), left = _reference_multipliers(op.op_name, s1, s2, so)

    def fn(inputs):
        ra = fp.mbqm((inputs[0].astype(jnp.int64) - z1) << left, m1, e1, ROUNDING).astype(jnp.int64)
        rb = fp.mbqm((inputs[1].astype(jnp.int64) - z2) << left, m2, e2, ROUNDING).astype(jnp.int64)
        d = ra - rb
        v = fp.mbqm(d * d if square else d, mo, eo, ROUNDING).astype(jnp.int64) + zo
        return [jnp.broadcast_to(jnp.clip(v, lo, hi), y_t.shape).astype(jnp.int8)]

    return fn


def sub(ctx: Ctx, op):
    return _rescaled_difference(ctx, op)


def squared_difference(ctx: Ctx, op):
    return _rescaled_difference(ctx, op)


def _raw(f):
    def lower(ctx: Ctx, op):
        shape = ctx.model.tensors[op.outputs[0]].shape
        return lambda inputs: [ctx.jnp.broadcast_to(f(ctx.jnp)(inputs[0], inputs[1]), shape)]

    return lower


maximum = _raw(lambda jnp: jnp.maximum)  # raw int8 values compared, as the builtin kernel does
minimum = _raw(lambda jnp: jnp.minimum)
