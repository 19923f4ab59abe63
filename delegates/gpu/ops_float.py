"""float32 op lowerings (float models): same op list as the int8 path, compared with a stated tolerance.

XLA's float reductions are ordered differently from TFLite's kernels, so results match to float32 rounding
(tests/gpu use rtol 1e-4 / atol 1e-5), not bit for bit. Convolutions run at Precision.HIGHEST (no TF32).
"""

from __future__ import annotations

import numpy as np

from .common import Ctx, Unsupported, conv_padding, fc_output_shape


def _act(ctx: Ctx, op):
    jnp = ctx.jnp
    act = int(op.option("fusedActivationFunction", 0) or 0)
    table = {
        0: lambda v: v,
        1: lambda v: jnp.maximum(v, 0.0),
        2: lambda v: jnp.clip(v, -1.0, 1.0),
        3: lambda v: jnp.clip(v, 0.0, 6.0),
        4: jnp.tanh,
    }
    if act not in table:
        raise Unsupported(f"fused activation {act}")
    return table[act]


def _const(ctx: Ctx, index: int, what: str):
    data = ctx.const(index)
    if data is None:
        raise Unsupported(f"{what} must be a constant tensor")
    if np.asarray(data).dtype != np.float32:
        t = ctx.model.tensors[index]
        raise Unsupported(f"{what} of type {t.type_name} in a float op (hybrid / weight-only quantization)")
    return np.asarray(data, np.float32).reshape(ctx.model.tensors[index].shape)


def _conv(ctx: Ctx, op, depthwise: bool):
    jnp, lax = ctx.jnp, ctx.lax
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    w = _const(ctx, op.inputs[1], "filter")
    b = _const(ctx, op.inputs[2], "bias") if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    _, ih, iw, cin = x_t.shape
    sh, sw = int(op.option("strideH", 1)), int(op.option("strideW", 1))
    dh, dw = int(op.option("dilationHFactor", 1)), int(op.option("dilationWFactor", 1))
    if depthwise:
        _, kh, kw, cout = w.shape
        hwio, groups = w.reshape(kh, kw, 1, cout), cin
    else:
        cout, kh, kw, fin = w.shape
        hwio, groups = np.transpose(w, (1, 2, 3, 0)), cin // fin
    pads = conv_padding(int(op.option("padding", 0)), (ih, iw), (kh, kw), (sh, sw), (dh, dw), y_t.shape[1:3])
    act = _act(ctx, op)

    def fn(inputs):
        v = lax.conv_general_dilated(inputs[0], jnp.asarray(hwio), (sh, sw), pads, rhs_dilation=(dh, dw),
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=groups,
                                     precision=lax.Precision.HIGHEST)
        return [act(v + b if b is not None else v)]

    return fn


def conv_2d(ctx, op):
    return _conv(ctx, op, False)


def depthwise_conv_2d(ctx, op):
    return _conv(ctx, op, True)


def fully_connected(ctx: Ctx, op):
    jnp, lax = ctx.jnp, ctx.lax
    m = ctx.model
    w = _const(ctx, op.inputs[1], "weights")
    b = _const(ctx, op.inputs[2], "bias") if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    shape = fc_output_shape(op, m.tensors[op.inputs[0]].shape, w.shape[1], w.shape[0])
    act = _act(ctx, op)

    def fn(inputs):
        v = jnp.matmul(inputs[0].reshape(-1, w.shape[1]), jnp.asarray(w.T), precision=lax.Precision.HIGHEST)
        return [act(v + b if b is not None else v).reshape(shape)]

    return fn


def _binary(f):
    def lower(ctx: Ctx, op):
        act = _act(ctx, op)
        return lambda inputs: [act(f(inputs[0], inputs[1]))]

    return lower


def _pool(kind):
    def lower(ctx: Ctx, op):
        jnp, lax = ctx.jnp, ctx.lax
        m = ctx.model
        x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
        fh, fw = int(op.option("filterHeight", 1)), int(op.option("filterWidth", 1))
        sh, sw = int(op.option("strideH", 1)), int(op.option("strideW", 1))
        p = conv_padding(int(op.option("padding", 0)), x_t.shape[1:3], (fh, fw), (sh, sw), (1, 1), y_t.shape[1:3])
        win, strides, pads = (1, fh, fw, 1), (1, sh, sw, 1), ((0, 0), p[0], p[1], (0, 0))
        act = _act(ctx, op)
        if kind == "max":
            return lambda inputs: [act(lax.reduce_window(inputs[0], -jnp.inf, lax.max, win, strides, pads))]
        ones = np.ones((1, *x_t.shape[1:3], 1), np.float32)

        def fn(inputs):
            s = lax.reduce_window(inputs[0], 0.0, lax.add, win, strides, pads)
            c = lax.reduce_window(jnp.asarray(ones), 0.0, lax.add, win, strides, pads)
            return [act(s / c)]

        return fn

    return lower


def mean(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    axes = tuple(sorted({int(a) % len(x_t.shape) for a in np.asarray(m.tensors[op.inputs[1]].data).ravel()}))
    return lambda inputs: [jnp.mean(inputs[0], axis=axes).reshape(y_t.shape)]


def pad(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    pads = np.asarray(m.tensors[op.inputs[1]].data).reshape(-1, 2).astype(int)
    value = 0.0
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = float(np.asarray(m.tensors[op.inputs[2]].data).ravel()[0])
    return lambda inputs: [jnp.pad(inputs[0], [tuple(p) for p in pads], constant_values=value)]


def concatenation(ctx: Ctx, op):
    jnp = ctx.jnp
    axis = int(op.option("axis", 0)) % len(ctx.model.tensors[op.outputs[0]].shape)
    act = _act(ctx, op)
    return lambda inputs: [act(jnp.concatenate(inputs, axis=axis))]


def reshape(ctx: Ctx, op):
    shape = ctx.model.tensors[op.outputs[0]].shape
    return lambda inputs: [inputs[0].reshape(shape)]


def softmax(ctx: Ctx, op):
    import jax

    beta = float(op.option("beta", 1.0))
    return lambda inputs: [jax.nn.softmax(inputs[0] * beta, axis=-1)]


def hard_swish(ctx: Ctx, op):
    jnp = ctx.jnp
    return lambda inputs: [inputs[0] * jnp.clip(inputs[0] + 3.0, 0.0, 6.0) / 6.0]


def logistic(ctx: Ctx, op):
    import jax

    return lambda inputs: [jax.nn.sigmoid(inputs[0])]


def space_to_batch_nd(ctx: Ctx, op):
    from .ops_int8 import _space_batch

    return _space_batch(ctx, op, to_batch=True, pad_value=None)


def batch_to_space_nd(ctx: Ctx, op):
    from .ops_int8 import _space_batch

    return _space_batch(ctx, op, to_batch=False, pad_value=None)


LOWERINGS = {
    "SPACE_TO_BATCH_ND": space_to_batch_nd,
    "BATCH_TO_SPACE_ND": batch_to_space_nd,
    "CONV_2D": conv_2d,
    "DEPTHWISE_CONV_2D": depthwise_conv_2d,
    "FULLY_CONNECTED": fully_connected,
    "ADD": _binary(lambda a, b: a + b),
    "MUL": _binary(lambda a, b: a * b),
    "AVERAGE_POOL_2D": _pool("avg"),
    "MAX_POOL_2D": _pool("max"),
    "MEAN": mean,
    "PAD": pad,
    "PADV2": pad,
    "CONCATENATION": concatenation,
    "RESHAPE": reshape,
    "SOFTMAX": softmax,
    "HARD_SWISH": hard_swish,
    "LOGISTIC": logistic,
}
