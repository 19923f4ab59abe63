/* Shared by the NEON block-sparse variants (internal): the A tile they read blocks from, and the store of a
 * 4-channel result tile into C's rows.
 *
 * A sparse kernel reads, for one non-zero block kb, the same 4 bytes of k from each of MR rows. A is [m][k]
 * (NHWC rows), so `run` first copies MR rows into a tile laid out [kb][MR][4]: one block of all MR rows is then
 * MR*4 consecutive bytes (one or four vector loads). The copy costs MR*k bytes per MR rows, shared by all n
 * output channels; rows past m and bytes past k are zero (their sums are never stored / add nothing).
 */
#ifndef EDGELIFT_QS8_SPGEMM_NEON_H
#define EDGELIFT_QS8_SPGEMM_NEON_H

#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "qs8_spgemm.h"

/* tile[kb][mr][4] from rows [0, rows) of a (rows <= mr, mr a multiple of 4). */
static inline void qs8_spgemm_tile_a(int8_t* restrict tile, size_t mr, size_t rows, size_t k, const int8_t* a,
                                     size_t a_stride) {
  const size_t kbs = qs8_spgemm_blocks(k);
  const size_t vec_end = k / 16 * 16; /* bytes of k the 4x4 transposes take */
  for (size_t r = 0; r < mr; r += 4) {
    if (r + 4 <= rows) {
      const int8_t* a0 = a + r * a_stride;
      const int8_t* a1 = a0 + a_stride;
      const int8_t* a2 = a1 + a_stride;
      const int8_t* a3 = a2 + a_stride;
      for (size_t kk = 0; kk < vec_end; kk += 16) {
        const int32x4_t r0 = vreinterpretq_s32_s8(vld1q_s8(a0 + kk)), r1 = vreinterpretq_s32_s8(vld1q_s8(a1 + kk));
        const int32x4_t r2 = vreinterpretq_s32_s8(vld1q_s8(a2 + kk)), r3 = vreinterpretq_s32_s8(vld1q_s8(a3 + kk));
        const int64x2_t t0 = vreinterpretq_s64_s32(vtrn1q_s32(r0, r1)), t1 = vreinterpretq_s64_s32(vtrn2q_s32(r0, r1));
        const int64x2_t t2 = vreinterpretq_s64_s32(vtrn1q_s32(r2, r3)), t3 = vreinterpretq_s64_s32(vtrn2q_s32(r2, r3));
        int8_t* dst = tile + (kk / 4) * mr * 4 + r * 4;
        vst1q_s8(dst, vreinterpretq_s8_s64(vtrn1q_s64(t0, t2)));
        vst1q_s8(dst + mr * 4, vreinterpretq_s8_s64(vtrn1q_s64(t1, t3)));
        vst1q_s8(dst + 2 * mr * 4, vreinterpretq_s8_s64(vtrn2q_s64(t0, t2)));
        vst1q_s8(dst + 3 * mr * 4, vreinterpretq_s8_s64(vtrn2q_s64(t1, t3)));
      }
    }
    for (size_t i = r; i < r + 4; i++) { /* what the transposes did not take: k's tail, rows past m */
      const size_t from = i < rows && r + 4 <= rows ? vec_end / 4 : 0;
      for (size_t kb = from; kb < kbs; kb++) {
        int8_t* dst = tile + kb * mr * 4 + i * 4;
        memset(dst, 0, 4);
        if (i < rows) {
          const size_t col = kb * 4;
          memcpy(dst, a + i * a_stride + col, k - col < 4 ? k - col : 4);
        }
      }
    }
  }
}

/* 4 channels' results, each an int8 vector of `mr` rows (mr = 8: c[j] low halves used; mr = 16: whole), are
 * interleaved to rows of 4 bytes and written to C's rows [0, rows), channels [n0, n0 + nc). */
static inline void qs8_spgemm_store_rows(int8x16_t rows0_3, int8x16_t rows4_7, int8x16_t rows8_11,
                                         int8x16_t rows12_15, size_t rows, size_t nc, int8_t* c, size_t c_stride) {
  int8_t buf[64];
  vst1q_s8(buf, rows0_3);
  vst1q_s8(buf + 16, rows4_7);
  vst1q_s8(buf + 32, rows8_11);
  vst1q_s8(buf + 48, rows12_15);
  if (nc == 4) {
    for (size_t r = 0; r < rows; r++) memcpy(c + r * c_stride, buf + 4 * r, 4);
  } else {
    for (size_t r = 0; r < rows; r++) memcpy(c + r * c_stride, buf + 4 * r, nc);
  }
}

/* out[j]: channel j of rows 0..15 -> C's rows [0, rows), channels [n0, n0 + nc): bytes of channels 0|1 and 2|3
 * interleaved, then those as pairs, give each row's 4 bytes. */
static inline void qs8_spgemm_store4x16(const int8x16_t out[4], size_t rows, size_t nc, int8_t* c, size_t c_stride) {
  const int16x8_t a01l = vreinterpretq_s16_s8(vzip1q_s8(out[0], out[1]));
  const int16x8_t a01h = vreinterpretq_s16_s8(vzip2q_s8(out[0], out[1]));
  const int16x8_t a23l = vreinterpretq_s16_s8(vzip1q_s8(out[2], out[3]));
  const int16x8_t a23h = vreinterpretq_s16_s8(vzip2q_s8(out[2], out[3]));
  qs8_spgemm_store_rows(vreinterpretq_s8_s16(vzip1q_s16(a01l, a23l)), vreinterpretq_s8_s16(vzip2q_s16(a01l, a23l)),
                        vreinterpretq_s8_s16(vzip1q_s16(a01h, a23h)), vreinterpretq_s8_s16(vzip2q_s16(a01h, a23h)),
                        rows, nc, c, c_stride);
}

/* ruy's rescale of one channel's accumulators (one multiplier and shift), then saturating narrow to int16 and
 * the output zero point, as el_requant16_row does: equal to el_requantize_gemm + zero point, clamped later. */
static inline int16x8_t qs8_spgemm_requant8(int32x4_t lo, int32x4_t hi, int32_t mult, int32_t shift,
                                            int16x8_t zero_point) {
  const int32x4_t left = vdupq_n_s32(shift > 0 ? shift : 0), right = vdupq_n_s32(shift > 0 ? 0 : shift);
  const int32x4_t m = vdupq_n_s32(mult);
  const int32x4_t ylo = vrshlq_s32(vqrdmulhq_s32(vshlq_s32(lo, left), m), right);
  const int32x4_t yhi = vrshlq_s32(vqrdmulhq_s32(vshlq_s32(hi, left), m), right);
  return vqaddq_s16(vqmovn_high_s32(vqmovn_s32(ylo), yhi), zero_point);
}

#endif
#endif
