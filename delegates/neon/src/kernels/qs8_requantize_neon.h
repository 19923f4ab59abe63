/* TFLite's int8 GEMM requantization, vectorized for the NEON GEMM variants (internal to those kernels).
 *
 *   out = clamp(out_zero_point + el_requantize_gemm(acc, multiplier[n], shift[n]), act_min, act_max)
 *
 * It must give exactly what el_requantize_gemm() in requantize.h gives, lane for lane (tests/neon/kernels
 * checks that with zero tolerance). CONV_2D and FULLY_CONNECTED run in ruy inside TFLite, whose rescale is
 * ARM's own instruction sequence, so it maps one to one:
 *   x << max(shift, 0)                          VSHL (wrapping, like the scalar `(uint32_t)x << left`)
 *   (x * multiplier + 2^30) >> 31               SQRDMULH (saturates only for INT32_MIN * INT32_MIN; multipliers
 *                                               are positive)
 *   rounding right shift by max(-shift, 0)      SRSHL by min(shift, 0): ties round up, as in ruy
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
  int32x4_t left[2];  /* max(shift, 0) */
  int32x4_t right[2]; /* min(shift, 0): a negative count = right shift for SRSHL */
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
    ch.left[h] = vmaxq_s32(s, vdupq_n_s32(0));
    ch.right[h] = vminq_s32(s, vdupq_n_s32(0));
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
  return vrshlq_s32(vqrdmulhq_s32(vshlq_s32(acc, ch->left[h]), ch->mult[h]), ch->right[h]);
}

/* ---- 16 channels at a time, for tiles whose accumulator lanes are output channels (4x16 layouts) ---- */

typedef struct el_requant16 {
  int32x4_t mult[4], left[4], right[4];
} el_requant16;

/* Channels n0 .. n0 + 15; those past `count` get multiplier 0 (their lanes are never stored). */
static inline el_requant16 el_requant16_load(const qs8_gemm_params* p, size_t n0, size_t count) {
  const int32_t *mult = p->multiplier + n0, *shift = p->shift + n0;
  int32_t mult_buf[16], shift_buf[16];
  if (count < 16) {
    for (size_t j = 0; j < 16; j++) {
      mult_buf[j] = j < count ? mult[j] : 0;
      shift_buf[j] = j < count ? shift[j] : 0;
    }
    mult = mult_buf, shift = shift_buf;
  }
  el_requant16 q;
  for (int i = 0; i < 4; i++) {
    const int32x4_t s = vld1q_s32(shift + 4 * i);
    q.mult[i] = vld1q_s32(mult + 4 * i);
    q.left[i] = vmaxq_s32(s, vdupq_n_s32(0));
    q.right[i] = vminq_s32(s, vdupq_n_s32(0));
  }
  return q;
}

/* Does any of the n channels shift left (a multiplier above 1)? Kernels skip the VSHLs when none does. */
static inline int el_any_left_shift(const qs8_gemm_params* p, size_t n) {
  int left = 0;
  for (size_t j = 0; j < n; j++) left |= p->shift[j] > 0;
  return left;
}

/* One row's 16 accumulators -> 16 int8: ruy's rescale (the VSHL only when `left`), then saturating narrow to
 * int16, + zero point (saturating), narrow to int8, clamp. Equal to clamping out_zero_point +
 * el_requantize_gemm(acc) in int32: every saturation lands outside [act_min, act_max] on the same side. */
static inline __attribute__((always_inline)) int8x16_t el_requant16_row(const int left, const el_requant16* q,
                                                                        const int32x4_t acc[4], int16x8_t zero_point,
                                                                        int8x16_t act_min, int8x16_t act_max) {
  int32x4_t y[4];
  for (int i = 0; i < 4; i++) {
    const int32x4_t x = left ? vshlq_s32(acc[i], q->left[i]) : acc[i];
    y[i] = vrshlq_s32(vqrdmulhq_s32(x, q->mult[i]), q->right[i]);
  }
  const int16x8_t s0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(y[0]), y[1]), zero_point);
  const int16x8_t s1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(y[2]), y[3]), zero_point);
  return vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(s0), s1), act_min), act_max);
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
