"""Data movement of int8 activations: TRANSPOSE, SLICE, STRIDED_SLICE, EXPAND_DIMS, SQUEEZE, DEPTH_TO_SPACE,
SPACE_TO_DEPTH, SPLIT, SPLIT_V, GATHER. No arithmetic, so exact whenever input and output quantization are equal
(checked); index parameters must be constant. STRIDED_SLICE follows TFLite's StartForAxis/StopForAxis."""

from __future__ import annotations

import numpy as np

from .common import Ctx, Unsupported, quant


def _same_quant(ctx: Ctx, op):
    x_t, y_t = ctx.model.tensors[op.inputs[0]], ctx.model.tensors[op.outputs[0]]
    if quant(x_t) != quant(y_t):
        raise Unsupported("input and output quantization differ (a requantizing copy)")
    return x_t, y_t


def _const_vec(ctx: Ctx, index: int, n: int, what: str) -> np.ndarray:
    v = ctx.const(index)
    if v is None:
        raise Unsupported(f"{what} must be constant")
    v = np.asarray(v).astype(np.int64).ravel()
    if v.size != n:
        raise Unsupported(f"{what} has {v.size} entries for a rank-{n} input")
    return v


def transpose(ctx: Ctx, op):
    x_t, _ = _same_quant(ctx, op)
    perm = [int(p) for p in _const_vec(ctx, op.inputs[1], len(x_t.shape), "the permutation")]
    if sorted(perm) != list(range(len(perm))):
        raise Unsupported(f"{perm} is not a permutation")

    def fn(inputs):
        return [inputs[0].transpose(perm)]

    return fn


def axis_range(n: int, begin: int, end: int, stride: int, bmask: bool, emask: bool, shrink: bool):
    """TFLite's StartForAxis / StopForAxis on one axis of extent n: (first index, count)."""
    def clamp(v):
        return min(max(v, 0), n) if stride > 0 else min(max(v, -1), n - 1)

    s = (0 if stride > 0 else n - 1) if bmask else clamp(begin + n if begin < 0 else begin)
    if shrink:
        return s, 1
    e = (n if stride > 0 else -1) if emask else clamp(end + n if end < 0 else end)
    count = -(-(e - s) // stride)
    return s, max(count, 0)


def strided_slice(ctx: Ctx, op):
    jnp = ctx.jnp
    x_t, y_t = _same_quant(ctx, op)
    if int(op.option("ellipsisMask", 0) or 0) or int(op.option("newAxisMask", 0) or 0):
        raise Unsupported("ellipsis/new axis masks")
    if bool(op.option("offset", False)):
        raise Unsupported("the offset attribute")
    r = len(x_t.shape)
    b, e, st = (_const_vec(ctx, i, r, w) for i, w in zip(op.inputs[1:4], ("begin", "end", "strides"), strict=True))
    if not st.all():
        raise Unsupported("a zero stride")
    masks = [int(op.option(k, 0) or 0) for k in ("beginMask", "endMask", "shrinkAxisMask")]
    picks = []
    for i in range(r):
        bit = [bool(m >> i & 1) for m in masks]
        s, count = axis_range(x_t.shape[i], int(b[i]), int(e[i]), int(st[i]), *bit)
        if bit[2] and not 0 <= s < x_t.shape[i]:
            raise Unsupported(f"shrunk index {s} out of range on axis {i}")
        picks.append(s + int(st[i]) * np.arange(count))
    out_shape = tuple(y_t.shape)

    def fn(inputs):
        x = inputs[0]
        for i, idx in enumerate(picks):
            x = jnp.take(x, jnp.asarray(idx, jnp.int32), axis=i)
        return [x.reshape(out_shape)]

    return fn


def slice_(ctx: Ctx, op):
    x_t, _ = _same_quant(ctx, op)
    r = len(x_t.shape)
    b = _const_vec(ctx, op.inputs[1], r, "begin")
    size = _const_vec(ctx, op.inputs[2], r, "size")
    ends = [int(x_t.shape[i]) if size[i] == -1 else int(b[i] + size[i]) for i in range(r)]
    if any(b[i] < 0 or ends[i] > x_t.shape[i] or ends[i] < b[i] for i in range(r)):
        raise Unsupported(f"slice begin {b.tolist()} size {size.tolist()} out of range of {x_t.shape}")
    sl = tuple(slice(int(b[i]), ends[i]) for i in range(r))

    def fn(inputs):
        return [inputs[0][sl]]

    return fn


def reshape_like(ctx: Ctx, op):
    """EXPAND_DIMS / SQUEEZE: the output tensor's shape, the bytes unchanged."""
    _, y_t = _same_quant(ctx, op)
    shape = tuple(y_t.shape)

    def fn(inputs):
        return [inputs[0].reshape(shape)]

    return fn


def _block(ctx: Ctx, op):
    x_t, _ = _same_quant(ctx, op)
    if len(x_t.shape) != 4:
        raise Unsupported("input is not 4-D")
    return x_t, int(op.option("blockSize", 0) or 0)


def depth_to_space(ctx: Ctx, op):
    x_t, b = _block(ctx, op)
    n, h, w, c = x_t.shape
    if b < 1 or c % (b * b):
        raise Unsupported(f"channels {c} not a multiple of block_size^2 ({b}^2)")
    co = c // (b * b)

    def fn(inputs):  # in[n, h, w, (by * b + bx) * co + c]
        x = inputs[0].reshape(n, h, w, b, b, co).transpose(0, 1, 3, 2, 4, 5)
        return [x.reshape(n, h * b, w * b, co)]

    return fn


def space_to_depth(ctx: Ctx, op):
    x_t, b = _block(ctx, op)
    n, h, w, c = x_t.shape
    if b < 1 or h % b or w % b:
        raise Unsupported(f"height/width {h}x{w} not a multiple of block_size {b}")

    def fn(inputs):
        x = inputs[0].reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return [x.reshape(n, h // b, w // b, b * b * c)]

    return fn


def split(ctx: Ctx, op):
    """SPLIT (axis, x) and SPLIT_V (x, size_splits, axis): several outputs, each a slice along one axis."""
    m = ctx.model
    v = op.op_name == "SPLIT_V"
    x_i, a_i = (op.inputs[0], op.inputs[2]) if v else (op.inputs[1], op.inputs[0])
    x_t = m.tensors[x_i]
    for o in op.outputs:
        if quant(m.tensors[o]) != quant(x_t):
            raise Unsupported("an output's quantization differs from the input's")
    a = ctx.const(a_i)
    if a is None:
        raise Unsupported("the axis must be constant")
    axis = int(np.asarray(a).ravel()[0]) % len(x_t.shape)
    sizes = [int(m.tensors[o].shape[axis]) for o in op.outputs]
    bounds = np.cumsum([0, *sizes])
    if bounds[-1] != x_t.shape[axis]:
        raise Unsupported(f"split sizes {sizes} do not add up to {x_t.shape[axis]}")
    x_pos = 0 if v else 1

    def fn(inputs):
        x = inputs[x_pos]
        return [ctx.lax.slice_in_dim(x, int(bounds[k]), int(bounds[k + 1]), axis=axis) for k in range(len(sizes))]

    return fn


def gather(ctx: Ctx, op):
    """GATHER of int8 data with constant, in-range indices (batch_dims 0)."""
    x_t, _ = _same_quant(ctx, op)
    idx = ctx.const(op.inputs[1])
    if idx is None:
        raise Unsupported("the indices must be constant (a data-dependent index could be out of range)")
    if int(op.option("batchDims", 0) or 0):
        raise Unsupported("batch_dims")
    axis = int(op.option("axis", 0) or 0) % len(x_t.shape)
    idx = np.asarray(idx).reshape(ctx.model.tensors[op.inputs[1]].shape).astype(np.int64)
    if np.any(idx < 0) or np.any(idx >= x_t.shape[axis]):
        raise Unsupported("an index out of range")
    jnp = ctx.jnp

    def fn(inputs):
        return [jnp.take(inputs[0], jnp.asarray(idx, jnp.int32), axis=axis)]

    return fn


def fill(ctx: Ctx, op):
    """FILL of a run-time int8 scalar (a FILL of a constant is folded): the builtin copies the value's bytes,
    so only equal value and output quantization is lowered; the dims constant or folded."""
    jnp = ctx.jnp
    m = ctx.model
    v_t, y_t = m.tensors[op.inputs[1]], m.tensors[op.outputs[0]]
    if quant(v_t) != quant(y_t):
        raise Unsupported("value and output quantization differ")
    dims = ctx.const(op.inputs[0])
    if dims is None:
        raise Unsupported("the dims must be constant (or folded)")
    shape = tuple(int(d) for d in np.asarray(dims).ravel())

    def fn(inputs):
        return [jnp.broadcast_to(inputs[1].reshape(()), shape)]

    return fn


LOWERINGS = {
    "FILL": fill,
    "TRANSPOSE": transpose,
    "STRIDED_SLICE": strided_slice,
    "SLICE": slice_,
    "EXPAND_DIMS": reshape_like,
    "SQUEEZE": reshape_like,
    "DEPTH_TO_SPACE": depth_to_space,
    "SPACE_TO_DEPTH": space_to_depth,
    "SPLIT": split,
    "SPLIT_V": split,
    "GATHER": gather,
}
