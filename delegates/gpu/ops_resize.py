"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of int8 NHWC as LiteRT's int8 kernels compute them (reference
loops): nearest picks each source index in float32 (GetNearestNeighbor); bilinear weighs four neighbours with
10-bit fractions and rounds the 20-bit sum half away from zero (ResizeBilinearInteger). The indices and weights
depend only on the shapes, so they are computed here in numpy; the graph only gathers and sums."""

from __future__ import annotations

import numpy as np

from .common import Ctx, Unsupported, quant


def _setup(ctx: Ctx, op):
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if len(x_t.shape) != 4:
        raise Unsupported("input is not 4-D")
    if quant(x_t) != quant(y_t):
        raise Unsupported("input and output quantization differ")
    if ctx.const(op.inputs[1]) is None:
        raise Unsupported("the output size must be constant")
    align, half = bool(op.option("alignCorners", False)), bool(op.option("halfPixelCenters", False))
    if align and half:
        raise Unsupported("align_corners with half_pixel_centers")
    return x_t, y_t, align, half


def nearest_index(n_out: int, n_in: int, align: bool, half: bool) -> np.ndarray:
    """GetNearestNeighbor for every output index, in float32 like the kernel."""
    f = np.float32
    scale = f(n_in - 1) / f(n_out - 1) if align and n_out > 1 else f(n_in) / f(n_out)
    v = (np.arange(n_out, dtype=f) + f(0.5 if half else 0.0)) * scale
    r = np.floor(v.astype(np.float64) + 0.5) if align else np.floor(v)  # roundf: half away from zero (v >= 0)
    r = np.minimum(r.astype(np.int64), n_in - 1)
    return np.maximum(r, 0) if half else r


def resize_nearest_neighbor(ctx: Ctx, op):
    x_t, y_t, align, half = _setup(ctx, op)
    iy = nearest_index(y_t.shape[1], x_t.shape[1], align, half)
    ix = nearest_index(y_t.shape[2], x_t.shape[2], align, half)
    jnp = ctx.jnp

    def fn(inputs):
        x = jnp.take(inputs[0], jnp.asarray(iy, jnp.int32), axis=1)
        return [jnp.take(x, jnp.asarray(ix, jnp.int32), axis=2)]

    return fn


def bilinear_taps(n_out: int, n_in: int, align: bool, half: bool):
    """ResizeBilinearInteger per output index: lower and upper source index, their 10-bit weights."""
    if align and n_out > 1:
        scale = ((1 << 10) * (n_in - 1) + (n_out - 1) // 2) // (n_out - 1)
    else:
        scale = ((1 << 10) * n_in + n_out // 2) // n_out
    i = np.arange(n_out, dtype=np.int64)
    pos = i * scale + scale // 2 - (1 << 9) if half else i * scale
    lo = np.maximum(np.trunc(pos / 1024).astype(np.int64), 0)  # C division: toward zero
    hi = np.minimum(np.trunc((pos + 1023) / 1024).astype(np.int64), n_in - 1)
    w_hi = pos - 1024 * lo
    return lo, hi, 1024 - w_hi, w_hi


def resize_bilinear(ctx: Ctx, op):
    x_t, y_t, align, half = _setup(ctx, op)
    jnp, lax = ctx.jnp, ctx.lax
    y0, y1, wy0, wy1 = bilinear_taps(y_t.shape[1], x_t.shape[1], align, half)
    x0, x1, wx0, wx1 = bilinear_taps(y_t.shape[2], x_t.shape[2], align, half)

    def fn(inputs):
        x = inputs[0].astype(jnp.int64)
        rows = [jnp.take(x, jnp.asarray(r, jnp.int32), axis=1) for r in (y0, y1)]
        taps = [[jnp.take(r, jnp.asarray(c, jnp.int32), axis=2) for c in (x0, x1)] for r in rows]
        wy = [jnp.asarray(w)[None, :, None, None] for w in (wy0, wy1)]
        wx = [jnp.asarray(w)[None, None, :, None] for w in (wx0, wx1)]
        acc = sum(taps[a][b] * wy[a] * wx[b] for a in range(2) for b in range(2))
        q = lax.div(acc + jnp.where(acc > 0, 1 << 19, -(1 << 19)), jnp.int64(1 << 20))  # C's truncating division
        return [q.astype(jnp.int8)]

    return fn


LOWERINGS = {
    "RESIZE_NEAREST_NEIGHBOR": resize_nearest_neighbor,
    "RESIZE_BILINEAR": resize_bilinear,
}
