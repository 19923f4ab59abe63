"""int8 op lowerings: each turns one TFLite operator into a traced function with TFLite's integer arithmetic.

A lowering gets the model and the operator at lowering time, does all constant work there (multipliers,
transposed weights, lookup tables) in numpy, checks that it can compute the node exactly (raising
`Unsupported` otherwise) and returns `fn(inputs) -> outputs` on per-sample arrays (the model's shapes,
batch 1). Accumulators are int32 as in TFLite; the requantization's high multiply is int64 (fixedpoint.mbqm).
"""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported, conv_padding, depthwise_accumulate, fc_output_shape, int_conv_accumulate
from .common import fused_activation as _fused
from .common import quant as _q
from .ops_binary import add, maximum, minimum, mul, squared_difference, sub
from .ops_quantize import dequantize, quantize
from .ops_softmax import softmax

# Which MultiplyByQuantizedMultiplier each LiteRT 2.3 (x86-64) builtin kernel uses, established against it
# (tests/gpu): CONV_2D, FULLY_CONNECTED (ruy's GEMM) and DEPTHWISE_CONV_2D's vector loop use the NEON pair
# SQRDMULH + rounding shift; depthwise's channel tail uses gemmlowp's double rounding; ADD and MUL are in
# ops_binary (their rounding depends on the kernel's code path), MEAN in ops_mean.
ROUNDING = {
    "CONV_2D": "neon",
    "DEPTHWISE_CONV_2D": "neon",
    "FULLY_CONNECTED": "neon",
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
    if groups > 1 and not depthwise:
        # LiteRT's CONV_2D runs grouped filters (Keras Conv2D(groups=...)) on its reference kernel, whose
        # requantization is gemmlowp's double rounding (established against LiteRT 2.3, tests/gpu)
        rounding = "double"
    if depthwise or (groups == cin and cout % cin == 0):
        # one input channel per group is a depthwise convolution (output channel o reads input o // (cout/cin))
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
    out_shape = fc_output_shape(op, x_t.shape, depth, units)

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
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    shape = tuple(y_t.shape)
    n = int(np.prod(x_t.shape))
    if int(np.prod(shape)) != n:
        # a dynamic-batch graph: the stored output shape is a placeholder; the (folded) shape operand says
        new = ctx.const(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        if new is None:
            raise Unsupported(f"output shape {shape} does not hold the input's {n} elements")
        new = [int(d) for d in np.atleast_1d(new)]
        if new.count(-1) == 1:
            known = int(np.prod([d for d in new if d != -1]))
            new[new.index(-1)] = n // known if known else 0
        if int(np.prod(new)) != n:
            raise Unsupported(f"shape operand {new} does not hold the input's {n} elements")
        shape = tuple(new)

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
