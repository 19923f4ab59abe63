"""Constant folding of the small int32 shape computations converters leave in a graph (SHAPE → STRIDED_SLICE /
GATHER / REDUCE_PROD → PACK / CONCATENATION → RESHAPE's shape operand or FILL's dims). Shapes are static per
sample here, so these are evaluated once in numpy. SHAPE reads the real shape (`m` is the lowering's
shapes.ShapedModel), so a dynamic-batch graph folds to the shapes its arrays have."""

from __future__ import annotations

import numpy as np

from .common import Unsupported


def _shape(m, op, vals):
    return [np.asarray(m.tensors[op.inputs[0]].shape, dtype=np.int32)]


def _strided_slice(m, op, vals):
    x, begin, end, strides = vals
    if x.ndim != 1 or any(int(op.option(k, 0) or 0) for k in ("ellipsisMask", "newAxisMask")):
        raise Unsupported("only 1-D STRIDED_SLICE of shape vectors is folded")
    b, e, s = int(begin[0]), int(end[0]), int(strides[0])
    if int(op.option("beginMask", 0) or 0) & 1:
        b = 0 if s > 0 else len(x) - 1
    if int(op.option("endMask", 0) or 0) & 1:
        e = len(x) if s > 0 else -len(x) - 1
    if int(op.option("shrinkAxisMask", 0) or 0) & 1:
        return [np.asarray(x[b], dtype=x.dtype)]
    return [x[b:e:s]]


def _pack(m, op, vals):
    return [np.stack([np.asarray(v) for v in vals], axis=int(op.option("axis", 0) or 0))]


def _concat(m, op, vals):
    return [np.concatenate([np.atleast_1d(v) for v in vals], axis=int(op.option("axis", 0) or 0))]


def _gather(m, op, vals):
    x, idx = vals
    if int(op.option("batchDims", 0) or 0):
        raise Unsupported("GATHER with batch_dims is not folded")
    if np.any(idx < 0) or np.any(idx >= x.shape[int(op.option("axis", 0) or 0)]):
        raise Unsupported("GATHER index out of range")
    return [np.take(x, idx, axis=int(op.option("axis", 0) or 0))]


def _reduce_prod(m, op, vals):
    x, axes = vals
    keep = bool(op.option("keepDims", False))
    return [np.prod(x, axis=tuple(int(a) for a in np.atleast_1d(axes)), keepdims=keep, dtype=np.int32)]


def _reshape(m, op, vals):
    shape = vals[1] if len(vals) > 1 else m.tensors[op.outputs[0]].shape
    return [np.reshape(vals[0], tuple(int(d) for d in np.atleast_1d(shape)))]


def _fill(m, op, vals):
    dims, value = vals
    return [np.full(tuple(int(d) for d in np.atleast_1d(dims)), np.asarray(value).ravel()[0])]


def _dequantize_fp16(m, op, vals):
    return [np.asarray(vals[0], dtype=np.float16).astype(np.float32)]  # exact widening


FOLDERS = {"SHAPE": _shape, "STRIDED_SLICE": _strided_slice, "PACK": _pack, "CONCATENATION": _concat,
           "GATHER": _gather, "REDUCE_PROD": _reduce_prod, "RESHAPE": _reshape, "FILL": _fill}


def foldable(m, op, consts: dict) -> bool:
    """An all-int32 node whose inputs are constant (SHAPE: whatever its input), or the DEQUANTIZE of float16
    weights (float16-quantized float models)."""
    if op.op_name == "DEQUANTIZE":
        return op.inputs[0] in consts and m.tensors[op.inputs[0]].type_name == "FLOAT16"
    if op.op_name not in FOLDERS:
        return False
    # FILL of a constant value makes a constant of the value's type (an int8 zero state, say)
    if op.op_name != "FILL" and any(m.tensors[i].type_name != "INT32" for i in op.outputs):
        return False
    return op.op_name == "SHAPE" or all(i in consts for i in op.inputs if i >= 0)


def fold(m, op, consts: dict) -> None:
    vals = [] if op.op_name == "SHAPE" else [_declared(m, i, consts[i]) for i in op.inputs if i >= 0]
    folder = _dequantize_fp16 if op.op_name == "DEQUANTIZE" else FOLDERS[op.op_name]
    for i, v in zip(op.outputs, folder(m, op, vals), strict=True):
        consts[i] = np.asarray(v)
        if hasattr(m, "set_shape"):
            m.set_shape(i, consts[i].shape)


def _declared(m, i: int, v: np.ndarray) -> np.ndarray:
    """A constant of the file in its declared shape (the reader keeps scalars as 1-element vectors); a folded
    one already has its real shape (the file's may be a placeholder)."""
    if m.tensors[i].data is None:
        return v
    shape = m.tensors[i].shape
    return v.reshape(shape) if int(np.prod(shape)) == v.size else v
