"""int8 TRANSPOSE_CONV (Keras Conv2DTranspose) like LiteRT 2.3's optimized_integer_ops::TransposeConvV2.

The builtin multiplies the filter (OHWI, symmetric, per-channel or per-tensor scales) into a column buffer with
a GEMM whose input zero point is subtracted, scatters it (Col2im: input row iy, tap ky land on output row
iy * stride + ky - pad_top; what falls outside is dropped), adds the bias and requantizes per channel
(optimized_ops::Quantize). Here the scatter is XLA's convolution of the input dilated by the stride
(lhs_dilation) with the flipped filter, exact in int32; the zero point is taken off as zp * (the same
convolution of ones), since the dilation's holes are zeros, not zero points.

The requantization has two code paths: output channels in blocks of 8 take the vector loop (SQRDMULH and a
rounding right shift, like conv), the channels past the last multiple of 8 the scalar
MultiplyByQuantizedMultiplier (gemmlowp's double rounding); both established against LiteRT 2.3 (tests/gpu:
double rounding in the body differs in about 1 of 1,000 outputs).
"""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import CHUNK, Ctx, Unsupported
from .common import fused_activation as _fused
from .common import quant as _q

VECTOR_CHANNELS = 8  # optimized_ops::Quantize's NEON loop: 8 output channels a step


def transpose_padding(padding: int, out_size: int, k: int, s: int) -> int:
    """pad_top / pad_left as the builtin computes it: the padding of a forward convolution over the output
    (ComputePaddingHeightWidth with the output as the input), whose own output size it does not check."""
    if padding not in (0, 1):
        raise Unsupported(f"padding type {padding}")
    n = (out_size + s - 1) // s if padding == 0 else (out_size - k + s) // s
    return max((n - 1) * s + k - out_size, 0) // 2


def _accumulate(ctx: Ctx, hwio: np.ndarray, strides, pads, out_hw):
    """(conv, crop): conv(x int8 NHWC, hwio) -> int32, the full correlation of the stride-dilated raw input
    with the flipped filter (its zero point is taken off by the caller); crop(full) -> (N, OH, OW, O), the
    window that starts at (pad_top, pad_left)."""
    jnp, lax = ctx.jnp, ctx.lax
    kh, kw, cin, _ = hwio.shape
    dn = ("NHWC", "HWIO", "NHWC")
    full_pad = ((kh - 1, kh - 1), (kw - 1, kw - 1))

    def conv(x, w):
        if ctx.accumulate == "int":
            return lax.conv_general_dilated(x, jnp.asarray(w), (1, 1), full_pad, lhs_dilation=strides,
                                            dimension_numbers=dn, preferred_element_type=jnp.int32)
        # exact float32 chunks: at most kh * kw * step products of |x * w| <= 128 * 127 per output
        step = max(1, CHUNK // (kh * kw))
        acc = None
        for s in range(0, cin, step):
            part = lax.conv_general_dilated(
                x[..., s:s + step].astype(jnp.float32), jnp.asarray(w[:, :, s:s + step], jnp.float32), (1, 1),
                full_pad, lhs_dilation=strides, dimension_numbers=dn,
                precision=lax.Precision.HIGHEST).astype(jnp.int32)
            acc = part if acc is None else acc + part
        return acc

    def crop(full):
        (pt, pl), (oh, ow) = pads, out_hw
        fh, fw = full.shape[1], full.shape[2]
        # output rows past the full correlation get no contribution (only the bias)
        extra_h, extra_w = max(pt + oh - fh, 0), max(pl + ow - fw, 0)
        if extra_h or extra_w:
            full = jnp.pad(full, ((0, 0), (0, extra_h), (0, extra_w), (0, 0)))
        return full[:, pt:pt + oh, pl:pl + ow, :]

    return conv, crop


def transpose_conv(ctx: Ctx, op):
    m = ctx.model
    jnp = ctx.jnp
    if len(op.inputs) < 3:
        raise Unsupported("TRANSPOSE_CONV needs output shape, filter and input")
    shape_i, w_i, x_i = op.inputs[:3]
    b_i = op.inputs[3] if len(op.inputs) > 3 else -1
    x_t, w_t, y_t = m.tensors[x_i], m.tensors[w_i], m.tensors[op.outputs[0]]
    if w_t.data is None or w_t.type_name != "INT8":
        raise Unsupported(f"filter must be a constant INT8 tensor (got {w_t.type_name}, constant={w_t.is_constant})")
    if np.any(w_t.zero_points != 0):
        raise Unsupported("filter zero points must be 0 (symmetric int8 weights)")
    if w_t.per_channel and w_t.quantized_dimension != 0:
        raise Unsupported(f"per-channel filter scales along axis {w_t.quantized_dimension} (the builtin's are on 0)")
    out_shape = ctx.const(shape_i)
    if out_shape is None:
        raise Unsupported("the output shape operand must be constant (or folded)")
    out_shape = tuple(int(d) for d in np.asarray(out_shape).ravel())
    if len(x_t.shape) != 4 or len(out_shape) != 4 or out_shape[0] != x_t.shape[0]:
        raise Unsupported(f"input {x_t.shape} / output shape {list(out_shape)} (4-D NHWC, one batch) expected")
    w = w_t.data.astype(np.int8)
    cout, kh, kw, fin = w.shape
    if fin != x_t.shape[3] or out_shape[3] != cout:
        raise Unsupported(f"filter {w.shape} does not fit input {x_t.shape} -> output {list(out_shape)}")
    sh, sw = int(op.option("strideH", 1)), int(op.option("strideW", 1))
    padding = int(op.option("padding", 0))
    _, oh, ow, _ = out_shape
    pads = (transpose_padding(padding, oh, kh, sh), transpose_padding(padding, ow, kw, sw))
    (si, zi), (so, zo) = _q(x_t), _q(y_t)
    lo, hi = fp.activation_range(_fused(op), so, zo)
    fscales = w_t.scales.astype(np.float64)
    if fscales.size == 1:
        fscales = np.full(cout, fscales[0])
    real = np.float64(np.float32(si)) * fscales / np.float64(np.float32(so))
    mult, shift = fp.quantize_multipliers(real)
    b_t = m.tensors[b_i] if b_i >= 0 else None
    if b_t is not None and (b_t.data is None or b_t.type_name != "INT32"):
        raise Unsupported(f"bias must be a constant INT32 tensor (got {b_t.type_name})")
    bias = b_t.data.astype(np.int32).ravel() if b_t is not None else np.zeros(cout, np.int32)
    hwio = np.ascontiguousarray(np.transpose(w[:, ::-1, ::-1, :], (1, 2, 3, 0)))
    conv, crop = _accumulate(ctx, hwio, (sh, sw), pads, (oh, ow))
    vec = (cout // VECTOR_CHANNELS) * VECTOR_CHANNELS

    def fn(inputs):
        x = inputs[2]  # inputs: output shape, filter, input, bias
        acc = conv(x, hwio)
        if zi:
            acc = acc - zi * conv(jnp.ones_like(x), hwio)
        acc = crop(acc) + jnp.asarray(bias)
        body = fp.mbqm(acc, mult, shift, "neon")
        tail = fp.mbqm(acc, mult, shift, "double")
        v = jnp.where(jnp.arange(cout) < vec, body, tail).astype(jnp.int64) + zo
        return [jnp.clip(v, lo, hi).astype(jnp.int8)]

    return fn


LOWERINGS = {"TRANSPOSE_CONV": transpose_conv}
