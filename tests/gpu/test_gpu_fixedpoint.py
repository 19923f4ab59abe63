"""TFLite's fixed-point primitives, checked against plain Python integer arithmetic (arbitrary precision)."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.delegates.gpu import fixedpoint as fp
from tests import artefacts

jax = artefacts.jax()


def _py_srdhm(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    q = ab + nudge
    return q >> 31 if q >= 0 else -((-q) >> 31)  # C division truncates toward zero


def _py_rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    return (x >> e) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)


def _py_mbqm(x: int, m: int, s: int, rounding: str) -> int:
    if rounding == "single":
        t = 31 - s
        return (x * m + (1 << (t - 1))) >> t
    left, right = max(s, 0), max(-s, 0)
    xs = x << left
    if rounding == "double":
        return _py_rdbpot(_py_srdhm(xs, m), right)
    hi = (xs * m + (1 << 30)) >> 31  # SQRDMULH
    return (hi + (1 << (right - 1))) >> right if right else hi  # SRSHL by -right


@pytest.mark.parametrize("rounding", ["single", "double", "neon"])
def test_mbqm_matches_integer_reference(rounding):
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 24), 1 << 24, 4000)
    x[:6] = [0, 1, -1, (1 << 24) - 1, -(1 << 24), 12345]
    mult = rng.integers(1 << 30, (1 << 31) - 1, 4000)
    shift = rng.integers(-20, 1, 4000)
    # exact ties for the rounding steps: x * m a multiple of 2^(30 - shift)
    mult[10:20] = 1 << 30
    x[10:20] = [(2 * k + 1) << 3 for k in range(-5, 5)]
    shift[10:20] = -3
    with jax.enable_x64(True):
        got = np.asarray(fp.mbqm(jax.numpy.asarray(x, jax.numpy.int64), mult, shift, rounding))
    want = np.array([_py_mbqm(int(a), int(m), int(s), rounding) for a, m, s in zip(x, mult, shift, strict=True)])
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} differ; first x={x[bad[0]]} m={mult[bad[0]]} s={shift[bad[0]]}: " \
                          f"expected {want[bad[0]]}, got {got[bad[0]]}"


def test_the_three_roundings_really_differ_on_ties():
    # x * 0.5 * 2^-3 = -2.5: gemmlowp rounds away from zero, NEON's SRSHL and single rounding round up
    x, m, s = -40, 1 << 30, -3
    with jax.enable_x64(True):
        vals = {r: int(fp.mbqm(jax.numpy.asarray([x], jax.numpy.int64), [m], [s], r)[0])
                for r in ("single", "double", "neon")}
    assert vals == {"single": -2, "double": -3, "neon": -2}


def test_quantize_multiplier_edges():
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(1.0) == (1 << 30, 1)
    assert fp.quantize_multiplier(0.75) == (3 << 29, 0)
    # a significand that rounds up to 2^31 is halved and the shift bumped
    assert fp.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)
    # below 2^-31 * 2^-31 the multiplier is flushed to zero, as TFLite does
    assert fp.quantize_multiplier(2.0 ** -70) == (0, 0)


def test_tflite_round_is_half_away_from_zero_and_exact():
    v = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997, -0.49999997, 1e9 + 0.5], np.float32)
    assert fp.tflite_round(v).tolist() == [1.0, 2.0, 3.0, -1.0, -3.0, 0.0, -0.0, float(np.float32(1e9 + 0.5))]
    assert fp.round_half_away(2.5) == 3 and fp.round_half_away(-2.5) == -3


def test_activation_range():
    assert fp.activation_range(0, 0.1, 3) == (-128, 127)
    assert fp.activation_range(1, 0.1, 3) == (3, 127)
    assert fp.activation_range(3, 0.05, -128) == (-128, -8)  # 6 / 0.05 = 120 -> -128 + 120
    assert fp.activation_range(2, 0.01, 0) == (-100, 100)
