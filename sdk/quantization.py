"""Float <-> integer tensors exactly as LiteRT's QUANTIZE and DEQUANTIZE kernels compute them: one rule for
the desktop (validate, bench, predict), the XLA path's host side and, as a tested copy, the on-device agent
(which ships as one file: `tests/device/test_quantization.py` checks its copy is this code).

QUANTIZE (optimized AffineQuantize on x86-64 and aarch64): over the first multiple of 8 elements of each
invocation's tensor it multiplies by the float32 reciprocal of the scale and rounds half to even (the vector
loop); over the remaining tail it divides in double and rounds half away from zero (std::round); then adds
the zero point and saturates. So one value can quantize two ways by its position: scale 0.5, zero point 1,
x = -0.25 is 1 in the vector body (rint(-0.5) = 0) and 0 in the tail (round(-0.5) = -1). The tests pin every
tie in both positions against LiteRT's own QUANTIZE.

DEQUANTIZE (optimized Dequantize) splits the same way: the body multiplies and adds -zero_point * scale in float32
(two roundings), the tail rounds (q - zero_point) * scale once; 1 value in 3 can differ by one ulp between the two
(seen: scale 0.047, zero point 84). The tests pin every int8 value in both positions against LiteRT's own.

numpy only, Python 3.9+.
"""

from __future__ import annotations

import numpy as np

VECTOR_BLOCK = 8  # QUANTIZE's vector loop: elements per iteration; the rest is its scalar tail


def round_half_away(v):
    """std::round: half away from zero (numpy's np.round and np.rint are half to even)."""
    v = np.asarray(v)
    if v.dtype.kind != "f":
        return v
    t = np.trunc(v)
    return t + np.where(np.abs(v - t) >= 0.5, np.sign(v), 0).astype(v.dtype)


def quantize(x, scale, zero_point, dtype="int8"):
    """Float samples (first axis = invocations; a 0-D or 1-D array is one) -> `dtype` as LiteRT's QUANTIZE."""
    x = np.asarray(x, np.float32)
    rows = x.reshape(1, -1) if x.ndim <= 1 else x.reshape(x.shape[0], -1)
    split = (rows.shape[1] // VECTOR_BLOCK) * VECTOR_BLOCK
    recip = np.float32(np.float32(1.0) / np.float32(scale))
    q = np.empty(rows.shape, np.float64)
    q[:, :split] = np.rint(rows[:, :split] * recip)
    q[:, split:] = round_half_away(rows[:, split:].astype(np.float64) / np.float64(np.float32(scale)))
    info = np.iinfo(np.dtype(dtype))
    q = np.clip(q + int(zero_point), info.min, info.max)
    return q.astype(np.dtype(dtype)).reshape(x.shape)


def dequantize(q, scale, zero_point):
    """Integer values (first axis = invocations) -> float32 as LiteRT's DEQUANTIZE: the vector body computes
    float32(q) * scale + float32(-zero_point * scale) in float32 (two roundings), the tail (q - zero_point) * scale
    in double, rounded once."""
    q = np.asarray(q)
    rows = q.reshape(1, -1) if q.ndim <= 1 else q.reshape(q.shape[0], -1)
    split = (rows.shape[1] // VECTOR_BLOCK) * VECTOR_BLOCK
    s = np.float32(scale)
    out = np.empty(rows.shape, np.float32)
    out[:, :split] = rows[:, :split].astype(np.float32) * s + np.float32(-int(zero_point) * np.float64(s))
    out[:, split:] = ((rows[:, split:].astype(np.float64) - int(zero_point)) * np.float64(s)).astype(np.float32)
    return out.reshape(q.shape)
