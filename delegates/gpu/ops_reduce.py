"""REDUCE_MAX of int8: LiteRT's int8 kernel takes the maximum of the raw values (no rescale), so it is lowered
only when input and output quantization are equal; axes constant."""

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


LOWERINGS = {"REDUCE_MAX": reduce_max}
