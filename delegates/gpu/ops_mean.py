"""int8 MEAN over any axes, by the two kernels LiteRT 2.3 chooses between (tflite/kernels/reduce.cc EvalMean):

- keep_dims, a 4-D input and the axes exactly [1, 2] or [2, 1]: optimized_integer_ops::Mean, the raw sum times
  one multiplier of si / (n * so) in float32, plus zo - round(zi * si / so);
- every other case (any axes, keep_dims or not, any rank, equal quantization or not):
  reference_ops::QuantizedMeanOrSum, (sum - zi * n) times the multiplier of si / so with 1 / n folded into it
  (shifted left by at most floor(log2 n) bits first), plus zo.
Both requantize with gemmlowp's double rounding (MultiplyByQuantizedMultiplier, established against LiteRT 2.3).
"""

from __future__ import annotations

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported
from .common import quant as _q

ROUNDING = "double"


def _axes(ctx: Ctx, op, rank: int) -> tuple[list[int], tuple[int, ...]]:
    """(the axes as stored, the axes resolved to 0..rank-1 without repeats)."""
    a = ctx.const(op.inputs[1])
    if a is None:
        raise Unsupported("the axis tensor must be constant")
    raw = [int(v) for v in np.asarray(a).ravel()]
    if any(not -rank <= v < rank for v in raw):
        raise Unsupported(f"axes {raw} out of range for a rank-{rank} input")
    return raw, tuple(sorted({v % rank for v in raw}))


def mean(ctx: Ctx, op):
    jnp = ctx.jnp
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    shape = tuple(x_t.shape)
    raw, axes = _axes(ctx, op, len(shape))
    keep = bool(op.option("keepDims", False))
    n = int(np.prod([shape[a] for a in axes])) if axes else 1
    if n == 0 or 0 in shape:
        raise Unsupported("an empty input (the builtin leaves its output unset)")
    (si, zi), (so, zo) = _q(x_t), _q(y_t)
    f32 = np.float32
    if keep and len(shape) == 4 and sorted(raw) == [1, 2]:
        # optimized_integer_ops::Mean: raw sum * multiplier(si / (n * so)) + (zo - round(zi * si / so))
        mult, shift = fp.quantize_multiplier(float(f32(si) / (f32(n) * f32(so))))
        offset = 0
        bias = zo - int(fp.tflite_round(f32(zi) * f32(si) / f32(so)))
    elif keep and len(shape) == 4 and axes == (1, 2):
        # negative spellings of [1, 2]: which kernel takes them depends on how the builtin resolves them
        raise Unsupported(f"int8 MEAN over axes {raw} (negative spellings of [1, 2] are not pinned)")
    else:
        # reference_ops::QuantizedMeanOrSum: (sum - zi * n) * (multiplier(si / so) folded with 1 / n) + zo
        m0, s0 = fp.quantize_multiplier(float(np.float64(f32(si)) / np.float64(f32(so))))
        bits = min(n.bit_length() - 1, 32, 31 + s0)
        mult, shift = (m0 << bits) // n, s0 - bits
        if shift < -31:
            raise Unsupported(f"MEAN's folded multiplier needs a right shift of {-shift} (> 31)")
        offset = -zi * n
        bias = zo
    out_shape = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)

    def fn(inputs):
        s = inputs[0].astype(jnp.int32).sum(axis=axes).astype(jnp.int64) + offset
        v = fp.mbqm(s, mult, shift, ROUNDING) + bias
        return [jnp.clip(v, -128, 127).astype(jnp.int8).reshape(out_shape)]

    return fn


LOWERINGS = {"MEAN": mean}
