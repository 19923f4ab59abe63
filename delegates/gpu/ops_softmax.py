"""int8 SOFTMAX: reference_ops::Softmax's gemmlowp fixed point, as LiteRT 2.3 computes it."""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported
from .common import quant as _q


# -- SOFTMAX: reference_ops::Softmax's gemmlowp fixed point (Q5.26 input differences, Q12.19 sums) ---------
def softmax(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    si, _zi = _q(x_t)
    so, zo = _q(y_t)
    if zo != -128 or np.float32(so) != np.float32(1.0 / 256):
        raise Unsupported(f"int8 SOFTMAX output must have scale 1/256 and zero point -128 (got {so}, {zo})")
    beta = float(np.float32(op.option("beta", 1.0)))
    int_bits = 5
    real = min(beta * float(np.float32(si)) * (1 << (31 - int_bits)), float((1 << 31) - 1))
    in_mult, in_shift = fp.quantize_multiplier(real)
    if in_shift < 0:
        raise Unsupported("SOFTMAX input multiplier below one")
    radius = int(np.floor(((1 << int_bits) - 1) * float(1 << (31 - int_bits)) / float(1 << in_shift)))
    diff_min = -radius

    def fn(inputs):
        x = inputs[0].astype(jnp.int64)
        diff = x - x.max(axis=-1, keepdims=True)
        valid = diff >= diff_min
        scaled = fp.srdhm(fp.wrap32(diff << in_shift), jnp.int64(in_mult))
        e = _exp_on_negative_values(jnp, scaled)
        sum_exps = fp.wrap32(jnp.where(valid, fp.rdbpot(e, 12), 0).sum(axis=-1, keepdims=True))
        recip, bits_over = _reciprocal(jnp, sum_exps, 12)
        out = fp.rdbpot(fp.srdhm(recip, e), bits_over + 31 - 8) - 128
        out = jnp.where(valid, jnp.clip(out, -128, 127), -128)
        return [out.astype(jnp.int8)]

    return fn


def _sat_shift_left(jnp, x, n: int):
    return jnp.clip(x << n, fp.INT32_MIN, fp.INT32_MAX)


def _exp_on_interval(jnp, a):
    """exp on [-1/4, 0), FixedPoint<int32, 0> raw in, raw out."""
    const_term = jnp.int64(1895147668)
    one_third = jnp.int64(715827883)
    x = a + (1 << 28)
    x2 = fp.srdhm(x, x)
    x3 = fp.srdhm(x2, x)
    x4 = fp.srdhm(x2, x2)
    x4_over_4 = fp.rdbpot(x4, 2)
    poly = fp.rdbpot(fp.wrap32(fp.srdhm(fp.wrap32(x4_over_4 + x3), one_third) + x2), 1)
    return fp.wrap32(const_term + fp.srdhm(const_term, fp.wrap32(x + poly)))


def _exp_on_negative_values(jnp, a):
    """gemmlowp exp_on_negative_values for FixedPoint<int32, 5> (26 fractional bits)."""
    frac_bits = 26
    quarter = 1 << (frac_bits - 2)
    mask = quarter - 1
    a_mod = (a & mask) - quarter
    result = _exp_on_interval(jnp, _sat_shift_left(jnp, a_mod, 5))
    remainder = a_mod - a
    for exponent, multiplier in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                                 (2, 39332535), (3, 720401), (4, 242)):
        bit = (remainder & (1 << (frac_bits + exponent))) != 0
        result = jnp.where(bit, fp.srdhm(result, jnp.int64(multiplier)), result)
    return jnp.where(a == 0, jnp.int64(fp.INT32_MAX), result)


def _clz32(jnp, x):
    """count leading zeros of a non-negative int32 held in int64"""
    import jax.lax as lax

    return lax.clz(x.astype(jnp.uint32)).astype(jnp.int64)


def _reciprocal(jnp, x, integer_bits: int):
    headroom = _clz32(jnp, x)
    bits_over = integer_bits - headroom
    shifted = ((x << headroom) & 0xFFFFFFFF) - (1 << 31)
    shifted = fp.wrap32(shifted)
    # one_over_one_plus_x_for_x_in_0_1
    s = shifted + jnp.int64(fp.INT32_MAX)
    half_den = jnp.where(s >= 0, (s + 1) // 2, -((-(s - 1)) // 2))
    c48 = jnp.int64(1515870810)
    cm32 = jnp.int64(-1010580540)
    xv = fp.wrap32(c48 + fp.srdhm(half_den, cm32))
    for _ in range(3):
        hdx = fp.srdhm(half_den, xv)
        one_minus = fp.wrap32(jnp.int64(1 << 29) - hdx)
        xv = fp.wrap32(xv + _sat_shift_left(jnp, fp.srdhm(xv, one_minus), 2))
    return _sat_shift_left(jnp, xv, 1), bits_over
