"""TFLite's fixed-point arithmetic, twice: in numpy (lowering time, lookup tables) and in jax.numpy (traced).

The traced helpers take int32 values (held in int32 or int64 arrays) and do the 64-bit products TFLite relies
on in int64, so they are exact. Callers run inside `jax.enable_x64(True)` (see `lowering.x64`), which keeps
64-bit types local to this package.

Two rounding schemes exist in TFLite's MultiplyByQuantizedMultiplier:
- "double": gemmlowp's SaturatingRoundingDoublingHighMul followed by RoundingDivideByPOT (two roundings);
- "single": one 64-bit multiply, add half, arithmetic shift (TFLITE_SINGLE_ROUNDING);
- "neon": the ARM NEON pair SQRDMULH (round half up) + SRSHL by a negative amount (round half up), which is
  what ruy's GEMM kernels compute (on x86 too) and what NEON_2_SSE emulates.
Which one a builtin kernel of LiteRT 2.3 (x86-64) uses was established by comparing against it op by op
(see `lowering.ROUNDING` and tests/gpu).
"""

from __future__ import annotations

import math

import numpy as np

from edgelift.quantization import round_half_away

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


# -- lowering-time helpers (numpy / Python ints) -------------------------------------------------------
tflite_round = round_half_away  # std::round: half away from zero (numpy's np.round is half to even)


def round_half_away(v: float) -> int:
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def quantize_multiplier(m: float) -> tuple[int, int]:
    """QuantizeMultiplier: real multiplier -> (int32 significand in [2^30, 2^31), shift), as TFLite does."""
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multipliers(ms) -> tuple[np.ndarray, np.ndarray]:
    pairs = [quantize_multiplier(float(m)) for m in np.asarray(ms, dtype=np.float64).ravel()]
    return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))


def activation_range(fused: int, scale: float, zero_point: int, qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized (fused: 0 NONE, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6)."""
    s = np.float32(scale)

    def quantize(f: float) -> int:
        return int(zero_point) + round_half_away(float(np.float32(f) / s))

    if fused == 0:
        return qmin, qmax
    if fused == 1:
        return max(qmin, quantize(0.0)), qmax
    if fused == 2:
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    if fused == 3:
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    raise ValueError(fused)


# numpy versions of the integer primitives (used to build exact lookup tables at lowering time)
def np_srdhm(a, b, bits: int = 32):
    """SaturatingRoundingDoublingHighMul for int32 (bits=32) or int16 (bits=16), on int64 arrays."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    lo = -(1 << (bits - 1))
    ab = a * b
    half = 1 << (bits - 2)
    nudge = np.where(ab >= 0, half, 1 - half)
    res = _np_trunc_div_pow2(ab + nudge, bits - 1)
    return np.where((a == b) & (a == lo), (1 << (bits - 1)) - 1, res)


def _np_trunc_div_pow2(x, n):
    return np.where(x >= 0, x >> n, -((-x) >> n))


def np_rdbpot(x, exponent):
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


# -- traced helpers (jax.numpy on int64) ---------------------------------------------------------------
def _jnp():
    import jax.numpy as jnp

    return jnp


def wrap32(x):
    """Two's-complement wrap of an int64 array to the int32 range (C's int32 overflow in practice)."""
    jnp = _jnp()
    return ((x + (1 << 31)) & jnp.int64(0xFFFFFFFF)) - (1 << 31)


def trunc_div_pow2(x, n: int):
    jnp = _jnp()
    return jnp.where(x >= 0, x >> n, -((-x) >> n))


def trunc_div(x, d):
    """C integer division (toward zero) for int64 arrays; d > 0."""
    jnp = _jnp()
    return jnp.where(x >= 0, x // d, -((-x) // d))


def srdhm(a, b):
    jnp = _jnp()
    ab = a * b
    nudge = jnp.where(ab >= 0, jnp.int64(1 << 30), jnp.int64(1 - (1 << 30)))
    res = trunc_div_pow2(ab + nudge, 31)
    return jnp.where((a == b) & (a == INT32_MIN), jnp.int64(INT32_MAX), res)


def rdbpot(x, exponent):
    """gemmlowp RoundingDivideByPOT; exponent an int or an int64 array (broadcast)."""
    jnp = _jnp()
    e = jnp.asarray(exponent, dtype=jnp.int64)
    mask = (jnp.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(jnp.int64)
    return (x >> e) + (remainder > threshold).astype(jnp.int64)


def mbqm(x, multiplier, shift, rounding: str):
    """MultiplyByQuantizedMultiplier(x, multiplier, shift) -> int32, as TFLite's int32 code computes it.

    multiplier/shift: numpy int arrays broadcast against x (per channel on the last axis) or scalars. Only the
    high multiply is done in int64; the rounding shifts run in int32 (AVX2 has variable int32 shifts, not
    int64 arithmetic ones), which keeps this step cheap next to the convolution it follows.
    """
    jnp = _jnp()
    m = np.asarray(multiplier, dtype=np.int64)
    s = np.asarray(shift, dtype=np.int64)
    x = x.astype(jnp.int64)
    if rounding == "single":
        total = 31 - s
        rnd = jnp.asarray(np.left_shift(np.int64(1), total - 1))
        return ((x * jnp.asarray(m) + rnd) >> jnp.asarray(total)).astype(jnp.int32)
    if rounding not in ("neon", "double"):
        raise ValueError(rounding)
    left = np.maximum(s, 0)
    right = np.maximum(-s, 0)
    if np.any(left > 0):
        x = wrap32(x << jnp.asarray(left))
    prod = x * (int(m) if m.ndim == 0 else jnp.asarray(m))
    # SQRDMULH and gemmlowp's SaturatingRoundingDoublingHighMul agree here: gemmlowp's sign-dependent nudge
    # followed by a division truncating toward zero is floor((prod + 2^30) / 2^31) for either sign of prod,
    # i.e. round half up, one shift. Saturation needs x == m == INT32_MIN, impossible (m >= 0).
    hi = ((prod + (1 << 30)) >> 31).astype(jnp.int32)
    if not np.any(right > 0):
        return hi
    r = int(right.flat[0]) if np.all(right == right.flat[0]) else None
    r_arr = jnp.asarray(right.astype(np.int32)) if r is None else None
    rr = r if r is not None else r_arr
    if rounding == "neon":  # SRSHL by -right: round half up, written so that nothing overflows
        if r is not None:
            return (hi >> r) + ((hi >> (r - 1)) & 1)
        return jnp.where(r_arr > 0, (hi >> rr) + ((hi >> jnp.maximum(r_arr - 1, 0)) & 1), hi)
    # gemmlowp RoundingDivideByPOT
    mask = (jnp.int32(1) << rr) - 1
    threshold = (mask >> 1) + (hi < 0).astype(jnp.int32)
    return (hi >> rr) + ((hi & mask) > threshold).astype(jnp.int32)


def srdhm_up(a, b):
    """SQRDMULH: (2ab + 2^31) >> 32 with saturation (round half up)."""
    jnp = _jnp()
    res = (a * b + (1 << 30)) >> 31
    return jnp.where((a == b) & (a == INT32_MIN), jnp.int64(INT32_MAX), res)


def np_mbqm(x, multiplier: int, shift: int):
    """MultiplyByQuantizedMultiplier with gemmlowp's double rounding, at lowering time (numpy int64)."""
    x = np.asarray(x, dtype=np.int64)
    left, right = max(shift, 0), max(-shift, 0)
    x = ((x << left) + (1 << 31)) % (1 << 32) - (1 << 31)  # int32 wrap of the left shift
    return np_rdbpot(np_srdhm(x, multiplier), right)
