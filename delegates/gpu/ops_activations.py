"""int8 activations as 256-entry tables, each entry computed the way LiteRT 2.3's builtin kernel computes
that input value: LUTPopulate's float math (TANH, ELU, GELU; libm's own tanhf/expm1f/erfcf, called through
ctypes, since numpy's float32 transcendentals are not libm's), or the kernel's integer arithmetic for all 256
inputs (RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, RSQRT). The kernels have no per-position code paths for these
ops (LiteRT's sweeps over a vector body and a scalar tail agree), so one table serves every element.
PRELU (a per-element alpha) is computed directly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np

from . import fixedpoint as fp
from .common import Ctx, Unsupported
from .common import quant as _q
from .ops_int8 import _lut_fn

F32 = np.float32


@functools.cache
def _libm(name: str):
    f = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
    f.restype, f.argtypes = ctypes.c_float, [ctypes.c_float]
    return lambda v: np.array([f(float(x)) for x in np.asarray(v, F32).ravel()], F32).reshape(np.shape(v))


def lut_populate(si, zi, so, zo, transform) -> np.ndarray:
    """LUTPopulate<int8_t>: dequantize in float32, transform, multiply by 1/so, roundf, add zo, clamp."""
    q = np.arange(-128, 128, dtype=np.int32)
    deq = (F32(si) * (q - np.int32(zi)).astype(F32)).astype(F32)
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.asarray(transform(deq), F32)
        rescaled = fp.tflite_round((t * (F32(1.0) / F32(so))).astype(F32)).astype(F32)
        v = (rescaled + F32(zo)).astype(F32)
    return np.clip(np.nan_to_num(v, nan=0.0, posinf=127, neginf=-128), -128, 127).astype(np.int32)


def tanh_table(si, zi, so, zo):
    return lut_populate(si, zi, so, zo, _libm("tanhf"))


def elu_table(si, zi, so, zo):
    return lut_populate(si, zi, so, zo, lambda x: np.where(x < 0, _libm("expm1f")(x), x).astype(F32))


K_SQRT_2_OVER_PI = F32(1.12837916709551257390 * 0.70710678118654752440)  # (float)(M_2_SQRTPI * M_SQRT1_2)


def _gelu_exact(x):  # 0.5f * x * erfcf(x * (float)-M_SQRT1_2)
    return ((F32(0.5) * x).astype(F32) * _libm("erfcf")((x * F32(-0.70710678118654752440)).astype(F32))).astype(F32)


def _gelu_approximate(x):  # 0.5f * x * (1 + tanhf(k * (x + 0.044715f * x * x * x)))
    cube = (((F32(0.044715) * x).astype(F32) * x).astype(F32) * x).astype(F32)
    th = _libm("tanhf")((K_SQRT_2_OVER_PI * (x + cube).astype(F32)).astype(F32))
    return ((F32(0.5) * x).astype(F32) * (F32(1.0) + th).astype(F32)).astype(F32)


def gelu_table(si, zi, so, zo, approximate: bool):
    return lut_populate(si, zi, so, zo, _gelu_approximate if approximate else _gelu_exact)


def relu_table(si, zi, so, zo, lo: float, hi: float | None):
    """QuantizedReluX: zo + MultiplyByQuantizedMultiplier(q - zi, float(si / so)) clamped to the quantized
    activation range (roundf(bound / so) + zo; no upper bound for RELU)."""
    m, s = fp.quantize_multiplier(float(F32(si) / F32(so)))
    qmin = max(-128, zo + int(fp.tflite_round(F32(lo) / F32(so))))
    qmax = 127 if hi is None else min(127, zo + int(fp.tflite_round(F32(hi) / F32(so))))
    q = np.arange(-128, 128, dtype=np.int64)
    return np.clip(zo + fp.np_mbqm(q - zi, m, s), qmin, qmax)


def leaky_relu_table(si, zi, so, zo, alpha: float):
    """reference_ops::QuantizeLeakyRelu; both multipliers from float32 arithmetic on the scales."""
    ma, sa = fp.quantize_multiplier(float(F32(F32(si) * F32(alpha)) / F32(so)))
    mi, s_i = fp.quantize_multiplier(float(F32(si) / F32(so)))
    v = np.arange(-128, 128, dtype=np.int64) - zi
    out = np.where(v >= 0, fp.np_mbqm(v, mi, s_i), fp.np_mbqm(v, ma, sa)) + zo
    return np.clip(out, -128, 127)


# -- RSQRT: GetInvSqrtQuantizedMultiplierExp (gemmlowp fixed point, Newton-Raphson) on each input value -----
def _srdhm(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    n = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return n >> 31 if n >= 0 else -((-n) >> 31)


def _wrap(v: int) -> int:
    return (v + (1 << 31)) % (1 << 32) - (1 << 31)


def _sat_shl(x: int, e: int) -> int:
    t = (1 << (31 - e)) - 1
    return (1 << 31) - 1 if x > t else -(1 << 31) if x < -t else x << e


def _rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    return (x >> e) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    if value <= 1:
        return (1 << 31) - 1, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    pairs = (32 - value.bit_length() - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    half_input = _rdbpot(value >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    x = 1 << 28
    for _ in range(5):
        x3 = _sat_shl(_srdhm(_srdhm(x, x), x), 6)
        x = _sat_shl(_wrap(_srdhm(half_three, x) - _srdhm(half_input, x3)), 3)
    x = _srdhm(x, 1518500250)
    if shift < 0:
        x, shift = _wrap(x << -shift), 0
    return x, -shift


def rsqrt_table(si, zi, so, zo):
    """RsqrtEvalQuantized for inputs at or above the zero point (below it the kernel fails; not lowered)."""
    m, s = fp.quantize_multiplier(1.0 / float(F32(np.sqrt(F32(si)) * F32(so))))
    out = [0] * (zi + 128)  # below the zero point: not lowered (see rsqrt)
    for q in range(zi, 128):
        v = q - zi
        if v == 0:  # "any value close to 0 represents the max output value"
            out.append(127)
            continue
        im, ish = inv_sqrt_multiplier_exp(v)
        data = int(fp.np_mbqm(1, im, ish + 20))
        out.append(min(max(int(fp.np_mbqm(data, m, s - 20)) + zo, -128), 127))
    return np.array(out, np.int32)


# -- lowerings ---------------------------------------------------------------------------------------------
def _params(ctx: Ctx, op):
    m = ctx.model
    x_t, y_t = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    if x_t.type_name != "INT8" or y_t.type_name != "INT8":
        raise Unsupported(f"{x_t.type_name} -> {y_t.type_name} (int8 only)")
    return (*_q(x_t), *_q(y_t))


def relu(ctx, op):
    return _lut_fn(ctx, relu_table(*_params(ctx, op), 0.0, None))


def relu6(ctx, op):
    return _lut_fn(ctx, relu_table(*_params(ctx, op), 0.0, 6.0))


def relu_n1_to_1(ctx, op):
    return _lut_fn(ctx, relu_table(*_params(ctx, op), -1.0, 1.0))


def leaky_relu(ctx, op):
    return _lut_fn(ctx, leaky_relu_table(*_params(ctx, op), float(F32(op.option("alpha", 0.2)))))


def tanh(ctx, op):
    return _lut_fn(ctx, tanh_table(*_params(ctx, op)))


def elu(ctx, op):
    return _lut_fn(ctx, elu_table(*_params(ctx, op)))


def gelu(ctx, op):
    return _lut_fn(ctx, gelu_table(*_params(ctx, op), bool(op.option("approximate", False))))


def rsqrt(ctx, op):
    si, zi, so, zo = _params(ctx, op)
    if zi != -128:
        raise Unsupported(f"input zero point {zi}: inputs below it make LiteRT's RSQRT fail at run time "
                          "(lowered for zero point -128, where every int8 input is valid)")
    return _lut_fn(ctx, rsqrt_table(si, zi, so, zo))


def prelu(ctx: Ctx, op):
    """reference_ops::Prelu / BroadcastPrelu4DSlow: x >= 0 rescaled by si / so, else (x * alpha) by
    si * sa / so (both multipliers from float32 arithmetic on the scales), + zo, clamped."""
    jnp = ctx.jnp
    m = ctx.model
    x_t, a_t, y_t = (m.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if a_t.type_name != "INT8" or a_t.per_channel:
        raise Unsupported("alpha must be int8 with one scale")
    (si, zi), (sa, za), (so, zo) = _q(x_t), _q(a_t), _q(y_t)
    if len(x_t.shape) > 4 or len(a_t.shape) > 4:
        raise Unsupported("more than 4 dimensions (LiteRT's PRELU broadcasts in 4-D)")
    m1, s1 = fp.quantize_multiplier(float(F32(si) / F32(so)))
    m2, s2 = fp.quantize_multiplier(float(F32(F32(si) * F32(sa)) / F32(so)))
    alpha = ctx.const(op.inputs[1])

    def fn(inputs):
        x = inputs[0].astype(jnp.int64) - zi
        a = (jnp.asarray(np.asarray(alpha).reshape(a_t.shape)) if alpha is not None else inputs[1]).astype(jnp.int64)
        neg = fp.mbqm(x * (a - za), m2, s2, "double")
        out = jnp.where(x >= 0, fp.mbqm(x, m1, s1, "double"), neg).astype(jnp.int64) + zo
        return [jnp.clip(out, -128, 127).astype(jnp.int8).reshape(y_t.shape)]

    return fn


LOWERINGS = {
    "RELU": relu,
    "RELU6": relu6,
    "RELU_N1_TO_1": relu_n1_to_1,
    "LEAKY_RELU": leaky_relu,
    "TANH": tanh,
    "ELU": elu,
    "GELU": gelu,
    "RSQRT": rsqrt,
    "PRELU": prelu,
}
