/* The fused residual ADD of the NEON GEMM epilogues (qs8_gemm_add.h): the conv's int8 outputs still in a
 * register, the residual loaded beside them, the ADD's elementwise vector body lane for lane (as
 * qs8_vbinary__neon's body rounds it, for an output shift < 0: the partition fuses no other ADD, see
 * ops/fusion.h):
 *   (x - zero point) << (20 + shift)      VSHL by a signed count (a negative one truncates)
 *   high multiply                         SQRDMULH (gemmlowp's: the product never saturates, multipliers > 0)
 *   sum, output rescale                   SQRDMULH, then gemmlowp's RoundingDivideByPOT: negative lanes step
 *                                         down one before SRSHL's round-half-up (right for a shift < 0 only)
 *   narrow                                VMOVN (truncate), + zero point in int16 (wrapping), VQMOVN, clamp
 * Equality with the scalar twin, over all 65,536 (conv, residual) pairs: tests/neon/kernels/test_qs8_gemm.c. */
#ifndef EDGELIFT_QS8_GEMM_ADD_NEON_H
#define EDGELIFT_QS8_GEMM_ADD_NEON_H

#include <arm_neon.h>

#include "qs8_gemm.h"
#include "qs8_vbinary.h"

typedef struct el_gemm_add_neon {
  int16x8_t conv_offset, res_offset, zero_point;
  int32x4_t conv_shift, res_shift, conv_mult, res_mult;
  int32x4_t out_mult, out_right; /* out_right = out_shift (< 0): SRSHL's count */
  int8x16_t act_min, act_max;
} el_gemm_add_neon;

static inline el_gemm_add_neon el_gemm_add_neon_init(const qs8_vbinary_params* p) {
  el_gemm_add_neon q;
  q.conv_offset = vdupq_n_s16((int16_t)p->a_offset);
  q.res_offset = vdupq_n_s16((int16_t)p->b_offset);
  q.zero_point = vdupq_n_s16((int16_t)p->out_zero_point);
  q.conv_shift = vdupq_n_s32(QS8_VADD_LEFT_SHIFT + p->a_shift);
  q.res_shift = vdupq_n_s32(QS8_VADD_LEFT_SHIFT + p->b_shift);
  q.conv_mult = vdupq_n_s32(p->a_multiplier);
  q.res_mult = vdupq_n_s32(p->b_multiplier);
  q.out_mult = vdupq_n_s32(p->out_multiplier);
  q.out_right = vdupq_n_s32(p->out_shift);
  q.act_min = vdupq_n_s8((int8_t)p->act_min);
  q.act_max = vdupq_n_s8((int8_t)p->act_max);
  return q;
}

/* four lanes: both inputs' folded rescale, summed, the output rescale */
static inline __attribute__((always_inline)) int32x4_t el_gemm_add_neon_4(const el_gemm_add_neon* q, int16x4_t conv,
                                                                          int16x4_t res) {
  const int32x4_t a = vqrdmulhq_s32(vshlq_s32(vmovl_s16(conv), q->conv_shift), q->conv_mult);
  const int32x4_t b = vqrdmulhq_s32(vshlq_s32(vmovl_s16(res), q->res_shift), q->res_mult);
  const int32x4_t high = vqrdmulhq_s32(vaddq_s32(a, b), q->out_mult);
  return vrshlq_s32(vqaddq_s32(high, vshrq_n_s32(high, 31)), q->out_right);
}

/* 8 lanes, offsets already added (int16): the ADD's int16 result before its zero point */
static inline __attribute__((always_inline)) int16x8_t el_gemm_add_neon_8(const el_gemm_add_neon* q, int16x8_t conv,
                                                                          int16x8_t res) {
  const int32x4_t lo = el_gemm_add_neon_4(q, vget_low_s16(conv), vget_low_s16(res));
  const int32x4_t hi = el_gemm_add_neon_4(q, vget_high_s16(conv), vget_high_s16(res));
  return vaddq_s16(vcombine_s16(vmovn_s32(lo), vmovn_s32(hi)), q->zero_point);
}

static inline __attribute__((always_inline)) int8x16_t el_gemm_add_neon16(const el_gemm_add_neon* q, int8x16_t conv,
                                                                          int8x16_t res) {
  const int16x8_t lo = el_gemm_add_neon_8(q, vaddw_s8(q->conv_offset, vget_low_s8(conv)),
                                          vaddw_s8(q->res_offset, vget_low_s8(res)));
  const int16x8_t hi = el_gemm_add_neon_8(q, vaddw_high_s8(q->conv_offset, conv), vaddw_high_s8(q->res_offset, res));
  return vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)), q->act_min), q->act_max);
}

static inline __attribute__((always_inline)) int8x8_t el_gemm_add_neon8(const el_gemm_add_neon* q, int8x8_t conv,
                                                                        int8x8_t res) {
  const int16x8_t s = el_gemm_add_neon_8(q, vaddw_s8(q->conv_offset, conv), vaddw_s8(q->res_offset, res));
  return vmin_s8(vmax_s8(vqmovn_s16(s), vget_low_s8(q->act_min)), vget_low_s8(q->act_max));
}

/* nc (< 16) lanes of a residual row, nothing read past them: pieces of 8, 4, 2 and 1 bytes (constant-size
 * copies the compiler turns into single loads) instead of a byte loop */
static inline int8x16_t el_gemm_add_neon_load_partial(const int8_t* res, size_t nc) {
  int8_t buf[16] = {0};
  size_t at = 0;
  if (nc & 8) __builtin_memcpy(buf + at, res + at, 8), at += 8;
  if (nc & 4) __builtin_memcpy(buf + at, res + at, 4), at += 4;
  if (nc & 2) __builtin_memcpy(buf + at, res + at, 2), at += 2;
  if (nc & 1) buf[at] = res[at];
  return vld1q_s8(buf);
}

/* The 16-channel tiles' epilogue: rows x 16 conv outputs in `out` replaced by their ADD with the residual rows at
 * res (stride apart), nc (<= 16) of them real; q built once per kernel call (its constants are reloaded per
 * block: the k loop needs every register). */
static inline __attribute__((always_inline)) void el_gemm_add_neon_rows(const el_gemm_add_neon* q, size_t stride,
                                                                        const int rows, const int8_t* res,
                                                                        size_t nc, int8x16_t* out) {
  if (nc == 16) { /* unrolled so out[] stays in registers: as a loop it went through the stack (MobileNetV2's
                  * ADDs on the Pi 4: 0.92 M est. cycles in the epilogue that way, 0.66 M unrolled) */
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) out[r] = el_gemm_add_neon16(q, out[r], vld1q_s8(res + (size_t)r * stride));
    return;
  }
  if (nc <= 8) { /* a block's last 8 channels or fewer (n = 24, 40, ...): half the lanes, half the work */
    for (int r = 0; r < rows; r++) {
      const int8_t* rr = res + (size_t)r * stride;
      const int8x8_t res8 = nc == 8 ? vld1_s8(rr) : vget_low_s8(el_gemm_add_neon_load_partial(rr, nc));
      out[r] = vcombine_s8(el_gemm_add_neon8(q, vget_low_s8(out[r]), res8), vget_high_s8(out[r]));
    }
    return;
  }
  for (int r = 0; r < rows; r++)
    out[r] = el_gemm_add_neon16(q, out[r], el_gemm_add_neon_load_partial(res + (size_t)r * stride, nc));
}

#endif
