"""Shared pieces of the lowering: the context, padding geometry, and exact int8 accumulation.

Two accumulation strategies, both exact:
- "int": int8 x int8 -> int32 through XLA's integer convolution / dot (`preferred_element_type=int32`);
- "f32": the same products in float32, split along the reduction so every partial sum stays below 2^24
  (|x*w| <= 128*127 < 2^14, at most 1024 terms per chunk), then summed in int32. Float convolutions are what
  every XLA backend (cuDNN included) runs fastest; the split makes them exact.
The input zero point is handled by padding with the zero point itself (TFLite's padded value is "real 0",
i.e. the zero point) and subtracting zp * sum(w) per output channel, so the int8 operands stay int8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

CHUNK = 1024  # terms per float32 partial sum: 1024 * 128 * 127 < 2^24
IM2COL_MAX_DEPTH = 64  # KxK convolutions with at most this many terms per output go through im2col + GEMM


class Unsupported(Exception):
    """Raised by a lowering that cannot compute a node exactly; turned into UnsupportedModelError."""


@dataclass
class Ctx:
    model: Any
    accumulate: str = "int"  # "int" or "f32"
    depthwise: str = "taps"  # "taps" (shifted multiply-adds) or "conv" (grouped convolution)
    consts: dict | None = None  # tensor index -> constant value, folded ones included (filled by lower())

    def const(self, index: int):
        """The constant value of tensor `index` (stored or folded at lowering time), or None."""
        if self.consts is not None and index in self.consts:
            return self.consts[index]
        return self.model.tensors[index].data

    @property
    def jnp(self):
        import jax.numpy as jnp

        return jnp

    @property
    def lax(self):
        from jax import lax

        return lax

    def int_matmul(self, x, w):
        """x int8 (M, K) @ w int8 (K, N) -> int32, exactly."""
        jnp, lax = self.jnp, self.lax
        k = w.shape[0]
        if self.accumulate == "int":
            return lax.dot_general(x, jnp.asarray(w), (((1,), (0,)), ((), ())), preferred_element_type=jnp.int32)
        acc = None
        for s in range(0, k, CHUNK):
            part = lax.dot_general(x[:, s:s + CHUNK].astype(jnp.float32), jnp.asarray(w[s:s + CHUNK], jnp.float32),
                                   (((1,), (0,)), ((), ())), precision=lax.Precision.HIGHEST)
            part = part.astype(jnp.int32)
            acc = part if acc is None else acc + part
        return acc


def conv_padding(padding: int, in_hw, k_hw, strides, dilations, out_hw):
    """TFLite's padding (schema Padding: 0 SAME, 1 VALID) as ((top, bottom), (left, right)), checked."""
    pads = []
    for n, k, s, d, o in zip(in_hw, k_hw, strides, dilations, out_hw, strict=True):
        eff = (k - 1) * d + 1
        expect = (n + s - 1) // s if padding == 0 else (n - eff + s) // s
        if padding not in (0, 1):
            raise Unsupported(f"padding type {padding}")
        if expect != o:
            raise Unsupported(f"output size {o} does not match the {'SAME' if padding == 0 else 'VALID'} geometry "
                              f"({expect})")
        total = max((o - 1) * s + eff - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _pad_zp(jnp, x, pads, zp: int):
    if not any(p for pair in pads for p in pair):
        return x
    return jnp.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=jnp.int8(zp))


def int_conv_accumulate(ctx: Ctx, hwio: np.ndarray, in_zp: int, strides, dilations, pads, groups: int):
    """fn(x int8 NHWC) -> int32 sum over the window of (x - in_zp) * w, padding counted as zero."""
    jnp, lax = ctx.jnp, ctx.lax
    kh, kw, fin, cout = hwio.shape
    correction = in_zp * hwio.astype(np.int64).sum(axis=(0, 1, 2))
    dn = ("NHWC", "HWIO", "NHWC")
    if ctx.accumulate == "f32" and groups > 1 and kh * kw * fin > CHUNK:
        raise Unsupported("grouped convolution too deep for exact float32 accumulation")

    if groups == 1 and (kh * kw == 1 or fin * kh * kw <= IM2COL_MAX_DEPTH):
        # 1x1 convolutions (and shallow KxK ones through im2col) as one int8 GEMM: XLA's CPU dot is about
        # twice as fast as its convolution here, and exact the same way.
        wmat = hwio.reshape(kh * kw * fin, cout)
        sh, sw = strides
        dh, dw = dilations

        def fn_dot(x):
            xp = _pad_zp(jnp, x, pads, in_zp)
            n, hp, wp, c = xp.shape
            oh = (hp - ((kh - 1) * dh + 1)) // sh + 1
            ow = (wp - ((kw - 1) * dw + 1)) // sw + 1
            taps = [xp[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
                    for i in range(kh) for j in range(kw)]
            patches = taps[0] if len(taps) == 1 else jnp.concatenate(taps, axis=-1)
            acc = ctx.int_matmul(patches.reshape(-1, kh * kw * c), wmat).reshape(n, oh, ow, cout)
            return acc - jnp.asarray(correction.astype(np.int32))

        return fn_dot

    def fn(x):
        xp = _pad_zp(jnp, x, pads, in_zp)
        if ctx.accumulate == "int":
            acc = lax.conv_general_dilated(xp, jnp.asarray(hwio), strides, "VALID", rhs_dilation=dilations,
                                           dimension_numbers=dn, feature_group_count=groups,
                                           preferred_element_type=jnp.int32)
        else:
            step = max(1, CHUNK // (kh * kw))
            acc = None
            for s in range(0, fin, step) if groups == 1 else [0]:
                e = fin if groups > 1 else min(fin, s + step)
                xs = xp if groups > 1 else xp[..., s:e]
                part = lax.conv_general_dilated(
                    xs.astype(jnp.float32), jnp.asarray(hwio[:, :, s:e, :], jnp.float32), strides,
                    "VALID", rhs_dilation=dilations, dimension_numbers=dn, feature_group_count=groups,
                    precision=lax.Precision.HIGHEST).astype(jnp.int32)
                acc = part if acc is None else acc + part
        return acc - jnp.asarray(correction.astype(np.int32))

    return fn


def depthwise_accumulate(ctx: Ctx, hwio: np.ndarray, in_zp: int, strides, dilations, pads, cin: int):
    """Depthwise (hwio: kh, kw, 1, cin*mult): grouped convolution, or one multiply-add per filter tap."""
    jnp = ctx.jnp
    kh, kw, _, cout = hwio.shape
    if ctx.depthwise == "conv":
        return int_conv_accumulate(ctx, hwio, in_zp, strides, dilations, pads, groups=cin)
    sh, sw = strides
    dh, dw = dilations
    w = hwio.reshape(kh, kw, cout).astype(np.int32)

    def fn(x):
        cin = x.shape[-1]
        mult = cout // cin
        xp = _pad_zp(jnp, x, pads, in_zp).astype(jnp.int32) - in_zp
        if mult > 1:
            xp = jnp.repeat(xp, mult, axis=-1)
        _, hp, wp, _ = xp.shape
        oh = (hp - ((kh - 1) * dh + 1)) // sh + 1
        ow = (wp - ((kw - 1) * dw + 1)) // sw + 1
        acc = None
        for i in range(kh):
            for j in range(kw):
                tap = xp[:, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
                term = tap * jnp.asarray(w[i, j])
                acc = term if acc is None else acc + term
        return acc

    return fn


def fc_output_shape(op, in_shape, depth: int, units: int) -> tuple[int, ...]:
    """FULLY_CONNECTED's output shape from its input's real one (the file's is a placeholder in dynamic-batch
    graphs): keep_num_dims keeps the leading axes, else one row per `depth` (the weights' width) inputs."""
    if op.option("keepNumDims", False):
        return (*in_shape[:-1], units)
    return (int(np.prod(in_shape)) // depth, units)


def quant(t):
    """(scale, zero point) of a per-tensor quantized tensor."""
    if not t.is_quantized:
        raise Unsupported(f"tensor {t.name!r} ({t.type_name}) has no quantization parameters")
    return float(t.scales[0]), int(t.zero_points[0])


def fused_activation(op) -> int:
    """The fused activation code TFLite's int8 kernels clamp to (NONE, RELU, RELU_N1_TO_1, RELU6)."""
    act = int(op.option("fusedActivationFunction", 0) or 0)
    if act not in (0, 1, 2, 3):
        names = {4: "TANH", 5: "SIGN_BIT"}
        raise Unsupported(f"fused activation {names.get(act, act)} is not lowered (NONE/RELU/RELU_N1_TO_1/RELU6 are)")
    return act
