/* The delegate's requantization: TFLite's fixed-point rescaling, bit for bit — in its two flavours.
 *
 * Found by testing against LiteRT 2.3's builtin kernels (tests/neon/test_ops.py pins both):
 *
 *  - el_requantize(): TFLite's own MultiplyByQuantizedMultiplier, built without TFLITE_SINGLE_ROUNDING, i.e.
 *    "double rounding": gemmlowp's SaturatingRoundingDoublingHighMul (ties away from zero) followed by
 *    RoundingDivideByPOT (ties away from zero). Used by every op TFLite computes itself: DEPTHWISE_CONV_2D,
 *    ADD, MUL, MEAN, ...
 *  - el_requantize_gemm(): the GEMM ops (CONV_2D, FULLY_CONNECTED) run in ruy, whose kernels (x86 AVX2, ARM
 *    NEON alike) round the doubling high multiply half up and then shift right rounding half up: exactly
 *    ARM's SQRDMULH followed by SRSHL by a negative amount. On 1 output in ~300, this differs from
 *    el_requantize() (e.g. -10.5 becomes -10 here, -11 there).
 *
 * Build with -DEL_SINGLE_ROUNDING=1 to get the single-rounding el_requantize() TFLite uses when itself
 * built with TFLITE_SINGLE_ROUNDING (not the case in the pinned runtimes).
 */
#ifndef EDGELIFT_REQUANTIZE_H
#define EDGELIFT_REQUANTIZE_H

#include <math.h>
#include <stdint.h>

static inline int32_t el_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
  return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

static inline int32_t el_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^shift with TFLite's rounding; shift > 0 shifts left (TFLite's convention). */
static inline int32_t el_requantize(int32_t x, int32_t multiplier, int32_t shift) {
#if defined(EL_SINGLE_ROUNDING) && EL_SINGLE_ROUNDING
  const int64_t total_shift = 31 - shift;
  const int64_t round = INT64_C(1) << (total_shift - 1);
  return (int32_t)(((int64_t)x * multiplier + round) >> total_shift);
#else
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return el_rounding_divide_by_pot(el_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
#endif
}

/* ruy's requantization (CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D in the builtin kernels): SQRDMULH,
 * then SRSHL. Written branch-free (per-lane shifts, a logical 64-bit shift whose low half equals the
 * arithmetic one) so loops over channels vectorize; the rounding right shift adds bit (right-1), which is
 * floor((x + 2^(right-1)) / 2^right) without the overflow of the addition. */
static inline int32_t el_requantize_gemm(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  const int64_t prod = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
  const int32_t high = (int32_t)(uint32_t)((uint64_t)(prod + (INT64_C(1) << 30)) >> 31);
  const int32_t half = right > 0 ? (high >> (right > 0 ? right - 1 : 0)) & 1 : 0;
  return (high >> right) + half;
}

/* TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31). */
static inline void el_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift) {
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int exp = 0;
  const double q = frexp(real, &exp);
  int64_t q_fixed = (int64_t)round(q * (double)(INT64_C(1) << 31));
  if (q_fixed == (INT64_C(1) << 31)) {
    q_fixed /= 2;
    ++exp;
  }
  if (exp < -31) {
    exp = 0;
    q_fixed = 0;
  }
  *multiplier = (int32_t)q_fixed;
  *shift = exp;
}

static inline int32_t el_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

#endif
