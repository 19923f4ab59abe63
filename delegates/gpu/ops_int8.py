"""int8 op lowerings: each turns one TFLite operator into a traced function with TFLite's integer arithmetic.

A lowering gets the model and the operator at lowering time, does all constant work there (multipliers,
transposed weights, lookup tables) in numpy, checks that it can compute the node exactly (raising
`Unsupported` otherwise) and returns `fn(inputs) -> outputs` on per-sample arrays (the model's shapes,
batch 1). Accumulators are int32 as in TFLite; the requantization's high multiply is int64 (fixedpoint.mbqm).
"""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported, conv_padding, depthwise_accumulate, int_conv_accumulate
from .common import fused_activation as _fused
from .common import quant as _q
from .ops_binary import add, maximum, minimum, mul, squared_difference, sub

# Which MultiplyByQuantizedMultiplier each LiteRT 2.3 (x86-64) builtin kernel uses, established against it
# (tests/gpu): CONV_2D, FULLY_CONNECTED (ruy's GEMM) and DEPTHWISE_CONV_2D's vector loop use the NEON pair
# SQRDMULH + rounding shift; MEAN (and depthwise's channel tail) use gemmlowp's double rounding; ADD and MUL
# are in ops_binary (their rounding depends on the kernel's code path).
ROUNDING = {
    "CONV_2D": "neon",
    "DEPTHWISE_CONV_2D": "neon",
    "FULLY_CONNECTED": "neon",
    "MEAN": "double",
}


def _finish(ctx: Ctx, acc, mult, shift, rounding, out_zp, lo, hi):
    jnp = ctx.jnp
    v = fp.mbqm(acc, mult, shift, rounding) + out_zp
    return jnp.clip(v, lo, hi).astype(jnp.int8)


def _conv_like(ctx: Ctx, op, depthwise: bool):
    m = ctx.model
    x_t, w_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    b_t = m.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    y_t = m.tensors[op.outputs[0]]
    if w_t.data is None or w_t.type_name != "INT8":
        raise Unsupported(f"filter must be a constant INT8 tensor (got {w_t.type_name}, constant={w_t.is_constant})")
    if np.any(w_t.zero_points != 0):
        raise Unsupported("filter zero points must be 0 (symmetric int8 weights)")
    in_scale, in_zp = _q(x_t)
    out_scale, out_zp = _q(y_t)
    fused = _fused(op)
    lo, hi = fp.activation_range(fused, out_scale, out_zp)
    w = w_t.data.astype(np.int8)
    _, ih, iw, cin = x_t.shape
    sh, sw = int(op.option("strideH", 1)), int(op.option("strideW", 1))
    dh, dw = int(op.option("dilationHFactor", 1)), int(op.option("dilationWFactor", 1))
    if depthwise:
        _, kh, kw, cout = w.shape
        mult_opt = cout // cin
        if cin * mult_opt != cout:
            raise Unsupported(f"depthwise filter has {cout} channels for {cin} input channels")
        hwio = w.reshape(kh, kw, 1, cout)
        groups = cin
    else:
        cout, kh, kw, fin = w.shape
        if cin % fin:
            raise Unsupported(f"filter input depth {fin} does not divide the input depth {cin}")
        groups = cin // fin
        hwio = np.transpose(w, (1, 2, 3, 0))
    pads = conv_padding(int(op.option("padding", 0)), (ih, iw), (kh, kw), (sh, sw), (dh, dw), y_t.shape[1:3])
    # effective multiplier per output channel: double(input_scale) * double(filter_scale) / double(output_scale)
    fscales = w_t.scales.astype(np.float64)
    if fscales.size == 1:
        fscales = np.full(cout, fscales[0])
    real = np.float64(np.float32(in_scale)) * fscales / np.float64(np.float32(out_scale))
    mult, shift = fp.quantize_multipliers(real)
    bias32 = b_t.data.astype(np.int32) if b_t is not None else np.zeros(cout, np.int32)
    rounding = ROUNDING["DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"]
    if depthwise:
        acc_fn = depthwise_accumulate(ctx, hwio, in_zp, (sh, sw), (dh, dw), pads, cin)
    else:
        acc_fn = int_conv_accumulate(ctx, hwio, in_zp, (sh, sw), (dh, dw), pads, groups)

    vec = (cout // 8) * 8 if depthwise else cout

    def fn(inputs):
        acc = acc_fn(inputs[0]) + bias32
        out = _finish(ctx, acc, mult, shift, rounding, out_zp, lo, hi)
        if vec < cout:
            # LiteRT's depthwise kernel: output channels past the last multiple of 8 take its scalar
            # tail, which requantizes with gemmlowp's double rounding (established against LiteRT 2.3)
            tail = _finish(ctx, acc, mult, shift, "double", out_zp, lo, hi)
            out = ctx.jnp.where(ctx.jnp.arange(cout) >= vec, tail, out)
        return [out]

    return fn


def conv_2d(ctx, op):
    return _conv_like(ctx, op, depthwise=False)


def depthwise_conv_2d(ctx, op):
    return _conv_like(ctx, op, depthwise=True)


def fully_connected(ctx: Ctx, op):
    m = ctx.model
    jnp = ctx.jnp
    x_t, w_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]]
    b_t = m.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    y_t = m.tensors[op.outputs[0]]
    if w_t.data is None or w_t.type_name != "INT8":
        raise Unsupported(f"weights must be a constant INT8 tensor (got {w_t.type_name}, constant={w_t.is_constant})")
    if int(op.option("weightsFormat", 0) or 0) != 0:
        raise Unsupported("only the DEFAULT weights format is lowered")
    in_scale, in_zp = _q(x_t)
    out_scale, out_zp = _q(y_t)
    lo, hi = fp.activation_range(_fused(op), out_scale, out_zp)
    w = w_t.data.astype(np.int64)
    units, depth = w.shape
    if w_t.per_channel:
        real = np.float64(np.float32(in_scale)) * w_t.scales.astype(np.float64) / np.float64(np.float32(out_scale))
    else:  # GetQuantizedConvolutionMultipler: the input*filter product is taken in float
        prod = np.float32(in_scale) * np.float32(w_t.scales[0])
        real = np.array([np.float64(prod) / np.float64(np.float32(out_scale))])
    mult, shift = fp.quantize_multipliers(real)
    filter_zp = int(w_t.zero_points[0]) if w_t.zero_points.size else 0
    if filter_zp and w_t.per_channel:
        raise Unsupported("per-channel weights with a non-zero zero point")
    bias = b_t.data.astype(np.int64) if b_t is not None else np.zeros(units, np.int64)
    # sum_k (x + xo)(w + wo) = x.w + wo*sum(x) + xo*sum(w) + K*xo*wo, with xo = -in_zp, wo = -filter_zp
    w_sum = w.sum(axis=1)
    const = bias - in_zp * w_sum + depth * in_zp * filter_zp
    w8 = w_t.data.astype(np.int8).T.copy()
    out_shape = y_t.shape

    def fn(inputs):
        x = inputs[0].reshape(-1, depth)
        acc = ctx.int_matmul(x, w8).astype(jnp.int64) + const
        if filter_zp:
            acc = acc - filter_zp * x.astype(jnp.int64).sum(axis=1, keepdims=True)
        return [_finish(ctx, acc, mult, shift, ROUNDING["FULLY_CONNECTED"], out_zp, lo, hi).reshape(out_shape)]

    return fn


def _pool_geometry(ctx: Ctx, op):
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    _, ih, iw, _c = x_t.shape
    fh, fw = int(op.option("filterHeight", 1)), int(op.option("filterWidth", 1))
    sh, sw = int(op.option("strideH", 1)), int(op.option("strideW", 1))
    pads = conv_padding(int(op.option("padding", 0)), (ih, iw), (fh, fw), (sh, sw), (1, 1), y_t.shape[1:3])
    return x_t, y_t, (1, fh, fw, 1), (1, sh, sw, 1), ((0, 0), pads[0], pads[1], (0, 0))


def max_pool_2d(ctx: Ctx, op):
    jnp, lax = ctx.jnp, ctx.lax
    x_t, y_t, win, strides, pads = _pool_geometry(ctx, op)
    _, zo = _q(y_t)
    lo, hi = fp.activation_range(_fused(op), _q(y_t)[0], zo)

    def fn(inputs):
        v = lax.reduce_window(inputs[0], jnp.int8(-128), lax.max, win, strides, pads)
        return [jnp.clip(v, lo, hi).astype(jnp.int8)]

    return fn


def average_pool_2d(ctx: Ctx, op):
    jnp, lax = ctx.jnp, ctx.lax
    x_t, y_t, win, strides, pads = _pool_geometry(ctx, op)
    lo, hi = fp.activation_range(_fused(op), *_q(y_t))
    ones = np.ones((1, *x_t.shape[1:3], 1), np.int64)
    counts = np.asarray(_np_window_sum(ones, win, strides, pads))
    if np.any(counts == 0):
        raise Unsupported("a pooling window lies entirely in the padding")
    half = counts // 2

    def fn(inputs):
        s = lax.reduce_window(inputs[0].astype(jnp.int32), jnp.int32(0), lax.add, win, strides, pads)
        s = s.astype(jnp.int64)
        v = jnp.where(s > 0, fp.trunc_div(s + half, counts), fp.trunc_div(s - half, counts))
        return [jnp.clip(v, lo, hi).astype(jnp.int8)]

    return fn


def _np_window_sum(x, win, strides, pads):
    import jax
    from jax import lax

    with jax.default_device(jax.devices("cpu")[0]):
        return np.asarray(lax.reduce_window(x.astype(np.int32), np.int32(0), lax.add, win, strides, pads))


def _axes(ctx: Ctx, op, rank: int) -> tuple[int, ...]:
    a_t = ctx.model.tensors[op.inputs[1]]
    if a_t.data is None:
        raise Unsupported("the axis tensor must be constant")
    return tuple(sorted({int(a) % rank for a in np.asarray(a_t.data).ravel()}))


def mean(ctx: Ctx, op):
    """MEAN over H and W of a 4-D tensor (global average pooling). LiteRT 2.3 takes two different kernels
    depending on keep_dims; both reproduced (established against it). Other axis sets are not lowered."""
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    axes = _axes(ctx, op, len(x_t.shape))
    if len(x_t.shape) != 4 or axes != (1, 2):
        raise Unsupported(f"int8 MEAN over axes {list(axes)} of a rank-{len(x_t.shape)} tensor "
                          "(only axes [1, 2] of a 4-D tensor are lowered)")
    (si, zi), (so, zo) = _q(x_t), _q(y_t)
    f32 = np.float32
    n = int(x_t.shape[1] * x_t.shape[2])
    if op.option("keepDims", False):
        # optimized_integer_ops::Mean: raw sum * multiplier(si / (n * so)) + (zo - round(zi * si / so))
        mult, shift = fp.quantize_multiplier(float(f32(si) / (f32(n) * f32(so))))
        offset = 0
        bias = zo - int(fp.tflite_round(f32(zi) * f32(si) / f32(so)))
    else:
        # reference_ops::QuantizedMeanOrSum: (sum - zi * n) * (multiplier(si / so) folded with 1 / n) + zo
        m0, s0 = fp.quantize_multiplier(float(np.float64(f32(si)) / np.float64(f32(so))))
        bits = min(n.bit_length() - 1, 32, 31 + s0)
        mult, shift = (m0 << bits) // n, s0 - bits
        offset = -zi * n
        bias = zo
    out_shape = y_t.shape

    def fn(inputs):
        s = inputs[0].astype(jnp.int32).sum(axis=axes).astype(jnp.int64) + offset
        v = fp.mbqm(s, mult, shift, ROUNDING["MEAN"]) + bias
        return [jnp.clip(v, -128, 127).astype(jnp.int8).reshape(out_shape)]

    return fn


def pad(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    x_t, p_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    if p_t.data is None:
        raise Unsupported("the paddings tensor must be constant")
    pads = np.asarray(p_t.data).reshape(-1, 2).astype(int)
    value = _q(y_t)[1]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:  # PADV2
        c = m.tensors[op.inputs[2]]
        if c.data is None:
            raise Unsupported("the pad value must be constant")
        value = int(np.asarray(c.data).ravel()[0])
    if _q(x_t) != _q(y_t):
        raise Unsupported("input and output quantization differ")
    if pads[0].any():
        raise Unsupported("padding along the batch axis")

    def fn(inputs):
        return [jnp.pad(inputs[0], [tuple(p) for p in pads], constant_values=jnp.int8(value))]

    return fn


def concatenation(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    y_t = m.tensors[op.outputs[0]]
    if _fused(op) != 0:
        raise Unsupported("a fused activation on CONCATENATION")
    for i in op.inputs:
        if _q(m.tensors[i]) != _q(y_t):
            raise Unsupported("inputs with quantization different from the output (TFLite requires it equal)")
    axis = int(op.option("axis", 0)) % len(y_t.shape)
    if axis == 0:
        raise Unsupported("concatenation along the batch axis")

    def fn(inputs):
        return [jnp.concatenate(inputs, axis=axis)]

    return fn


def reshape(ctx: Ctx, op):
    y_t = ctx.model.tensors[op.outputs[0]]
    shape = y_t.shape

    def fn(inputs):
        return [inputs[0].reshape(shape)]

    return fn


# -- elementwise ops computed through a 256-entry table built with TFLite's own integer algorithm -----------
def _lut_fn(ctx: Ctx, table: np.ndarray):
    jnp = ctx.jnp
    lut = np.asarray(table, dtype=np.int8)

    def fn(inputs):
        return [jnp.take(jnp.asarray(lut), inputs[0].astype(jnp.int32) + 128, axis=0)]

    return fn


def logistic(ctx: Ctx, op):
    m = ctx.model
    (si, zi), (so, zo) = _q(m.tensors[op.inputs[0]]), _q(m.tensors[op.outputs[0]])
    return _lut_fn(ctx, logistic_table(si, zi, so, zo))


def logistic_table(si, zi, so, zo) -> np.ndarray:
    """LUTPopulate<int8_t> with 1/(1+exp(-x)) in float32, as LiteRT's optimized LOGISTIC builds it."""
    vals = np.arange(-128, 128, dtype=np.int32)
    deq = np.float32(si) * (vals - np.int32(zi)).astype(np.float32)
    with np.errstate(over="ignore"):
        tr = np.float32(1.0) / (np.float32(1.0) + np.exp(-deq, dtype=np.float32))
    inv = np.float32(1.0) / np.float32(so)
    rescaled = fp.tflite_round((tr * inv).astype(np.float32))
    q = (rescaled + np.float32(zo)).astype(np.int32)
    return np.clip(q, -128, 127)


def hard_swish(ctx: Ctx, op):
    m = ctx.model
    (si, zi), (so, zo) = _q(m.tensors[op.inputs[0]]), _q(m.tensors[op.outputs[0]])
    return _lut_fn(ctx, hard_swish_table(si, zi, so, zo))


def _downscale16(m32: int) -> int:
    if m32 >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m32 + (1 << 15)) >> 16


def _sat16(v):
    return np.clip(v, -(1 << 15), (1 << 15) - 1)


def hard_swish_table(si, zi, so, zo) -> np.ndarray:
    """reference_ops::HardSwish (int16 fixed point) evaluated for all 256 int8 inputs."""
    si, so = np.float32(si), np.float32(so)
    hires = np.float32(1.0 / 128.0) * si
    out_m = float(np.float32(hires / so))
    relu_m = float(np.float32(hires / np.float32(3.0 / 32768.0)))
    om32, oexp = fp.quantize_multiplier(out_m)
    rm32, rexp = fp.quantize_multiplier(relu_m)
    if oexp > 0:
        raise Unsupported("HARD_SWISH output multiplier exponent > 0 (TFLite rejects it too)")
    om16, rm16 = _downscale16(om32), _downscale16(rm32)
    x = np.arange(-128, 128, dtype=np.int64) - zi
    hi_in = x * 128  # fits int16 for int8 inputs
    pre_out = fp.np_srdhm(hi_in, om16, bits=16)
    rv = hi_in
    if rexp > 0:
        rv = _sat16(rv * (1 << (rexp - 1)))
    rv = fp.np_srdhm(rv, rm16, bits=16)
    if rexp > 0:
        rv = _sat16(rv * 2)
    if rexp < 0:
        rv = fp.np_rdbpot(rv, -rexp)
    rv = (rv + (1 << 15)) >> 1
    prod = rv * pre_out
    pre_shift = np.where((rv == pre_out) & (rv == -(1 << 15)), (1 << 15) - 1, _np_trunc(prod, 1 << 15))
    out = fp.np_rdbpot(pre_shift, -oexp) + zo
    return np.clip(out, -128, 127)


def _np_trunc(x, d):
    return np.where(x >= 0, x // d, -((-x) // d))


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


def space_to_batch_nd(ctx: Ctx, op):
    return _space_batch(ctx, op, to_batch=True, pad_value=lambda t: np.int8(_q(t)[1]))


def batch_to_space_nd(ctx: Ctx, op):
    return _space_batch(ctx, op, to_batch=False, pad_value=None)


def _space_batch(ctx: Ctx, op, to_batch: bool, pad_value):
    """SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND on NHWC (how converters express dilated convolutions): pure data
    movement; the per-sample batch grows to block_h * block_w in between, which vmap does not mind."""
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    block_t, pc_t = m.tensors[op.inputs[1]], m.tensors[op.inputs[2]]
    if block_t.data is None or pc_t.data is None or len(x_t.shape) != 4:
        raise Unsupported("block shape and paddings/crops must be constant, input 4-D")
    if x_t.type_name == "INT8" and _q(x_t) != _q(y_t):
        raise Unsupported("input and output quantization differ")
    bh, bw = (int(v) for v in np.asarray(block_t.data).ravel())
    pc = np.asarray(pc_t.data).reshape(2, 2).astype(int)

    def fn(inputs):
        x = inputs[0]
        if to_batch:
            pv = pad_value(x_t) if pad_value is not None else 0
            x = jnp.pad(x, ((0, 0), tuple(pc[0]), tuple(pc[1]), (0, 0)), constant_values=pv)
            b, h, w, c = x.shape
            x = x.reshape(b, h // bh, bh, w // bw, bw, c).transpose(2, 4, 0, 1, 3, 5)
            return [x.reshape(bh * bw * b, h // bh, w // bw, c)]
        nb, h, w, c = x.shape
        b = nb // (bh * bw)
        x = x.reshape(bh, bw, b, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(b, h * bh, w * bw, c)
        return [x[:, pc[0, 0]: h * bh - pc[0, 1], pc[1, 0]: w * bw - pc[1, 1], :]]

    return fn


LOWERINGS = {
    "SPACE_TO_BATCH_ND": space_to_batch_nd,
    "BATCH_TO_SPACE_ND": batch_to_space_nd,
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "ADD": add,
    "MUL": mul,
    "SUB": sub,
    "SQUARED_DIFFERENCE": squared_difference,
    "MAXIMUM": maximum,
    "MINIMUM": minimum,
    "AVERAGE_POOL_2D": average_pool_2d,
    "MAX_POOL_2D": max_pool_2d,
    "MEAN": mean,
    "PAD": pad,
    "PADV2": pad,
    "CONCATENATION": concatenation,
    "RESHAPE": reshape,
    "SOFTMAX": softmax,
    "HARD_SWISH": hard_swish,
    "LOGISTIC": logistic,
    "QUANTIZE": quantize,
    "DEQUANTIZE": dequantize,
}
