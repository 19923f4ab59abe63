/* TFLite's int8 requantization, vectorized for the NEON GEMM variants (internal to those kernels).
 *
 *   out = clamp(out_zero_point + MultiplyByQuantizedMultiplier(acc, multiplier[n], shift[n]), act_min, act_max)
 *
 * It must give exactly what the scalar function in requantize.h gives, lane for lane; tests/neon/kernels
 * checks that with zero tolerance. Double rounding (TFLite's default MultiplyByQuantizedMultiplier):
 *   x << max(shift, 0)              (wrapping, like TFLite's `x * (1 << left_shift)`)
 *   SQRDMULH by the multiplier      == SaturatingRoundingDoublingHighMul
 *   rounding right shift by max(-shift, 0), ties away from zero == RoundingDivideByPOT
 *     (SRSHL rounds ties up, so negative values are first nudged down by one: the usual AND/SSHR/SQADD fixup)
 * Single rounding (TFLITE_SINGLE_ROUNDING; -DEL_SINGLE_ROUNDING=1, the same switch as requantize.h):
 * (x * multiplier + 2^(30 - shift)) >> (31 - shift) in 64 bits, i.e. SMULL then SRSHL by shift - 31.
 */
#ifndef EDGELIFT_QS8_REQUANTIZE_NEON_H
#define EDGELIFT_QS8_REQUANTIZE_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"
#include "../requantize.h"

typedef struct el_requant_neon {
  int32x4_t zero_point;
  int32x4_t act_min;
  int32x4_t act_max;
} el_requant_neon;

/* Per-channel parameters of 8 consecutive output channels, in the form the vector code wants. */
typedef struct el_requant_channels {
  int32x4_t mult[2];
#if defined(EL_SINGLE_ROUNDING) && EL_SINGLE_ROUNDING
  int64x2_t shift64[4]; /* shift - 31 per channel, widened */
#else
  int32x4_t left[2];  /* max(shift, 0) */
  int32x4_t right[2]; /* min(shift, 0): a negative count = right shift for SRSHL */
#endif
} el_requant_channels;

static inline el_requant_neon el_requant_neon_init(const qs8_gemm_params* p) {
  el_requant_neon r;
  r.zero_point = vdupq_n_s32(p->out_zero_point);
  r.act_min = vdupq_n_s32(p->act_min);
  r.act_max = vdupq_n_s32(p->act_max);
  return r;
}

static inline el_requant_channels el_requant_channels_from(const int32_t* mult, const int32_t* shift) {
  el_requant_channels ch;
  for (int h = 0; h < 2; h++) {
    ch.mult[h] = vld1q_s32(mult + 4 * h);
    const int32x4_t s = vld1q_s32(shift + 4 * h);
#if defined(EL_SINGLE_ROUNDING) && EL_SINGLE_ROUNDING
    const int32x4_t s31 = vsubq_s32(s, vdupq_n_s32(31));
    ch.shift64[2 * h] = vmovl_s32(vget_low_s32(s31));
    ch.shift64[2 * h + 1] = vmovl_high_s32(s31);
#else
    ch.left[h] = vmaxq_s32(s, vdupq_n_s32(0));
    ch.right[h] = vminq_s32(s, vdupq_n_s32(0));
#endif
  }
  return ch;
}

static inline el_requant_channels el_requant_channels_load8(const qs8_gemm_params* p, size_t n0) {
  return el_requant_channels_from(p->multiplier + n0, p->shift + n0);
}

/* The last, partial block: channels past `count` get multiplier 0 (their lanes are never stored). */
static inline el_requant_channels el_requant_channels_load_partial(const qs8_gemm_params* p, size_t n0,
                                                                   size_t count) {
  int32_t mult[8] = {0}, shift[8] = {0};
  for (size_t j = 0; j < count; j++) {
    mult[j] = p->multiplier[n0 + j];
    shift[j] = p->shift[n0 + j];
  }
  return el_requant_channels_from(mult, shift);
}

static inline int32x4_t el_requant_neon_4(const el_requant_channels* ch, int h, int32x4_t acc) {
#if defined(EL_SINGLE_ROUNDING) && EL_SINGLE_ROUNDING
  const int32x4_t m = ch->mult[h];
  int64x2_t lo = vmull_s32(vget_low_s32(acc), vget_low_s32(m));
  int64x2_t hi = vmull_high_s32(acc, m);
  lo = vrshlq_s64(lo, ch->shift64[2 * h]);
  hi = vrshlq_s64(hi, ch->shift64[2 * h + 1]);
  return vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
#else
  const int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, ch->left[h]), ch->mult[h]);
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, ch->right[h]), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), ch->right[h]);
#endif
}

/* Accumulators of 8 channels (two vectors) -> 8 int8 outputs. */
static inline int8x8_t el_requant_neon_8(const el_requant_neon* r, const el_requant_channels* ch,
                                         int32x4_t lo, int32x4_t hi) {
  int32x4_t ylo = vaddq_s32(el_requant_neon_4(ch, 0, lo), r->zero_point);
  int32x4_t yhi = vaddq_s32(el_requant_neon_4(ch, 1, hi), r->zero_point);
  ylo = vminq_s32(vmaxq_s32(ylo, r->act_min), r->act_max);
  yhi = vminq_s32(vmaxq_s32(yhi, r->act_min), r->act_max);
  return vqmovn_s16(vcombine_s16(vqmovn_s32(ylo), vqmovn_s32(yhi)));
}

#endif
