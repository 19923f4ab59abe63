/* Shared by the NEON block-sparse variants (internal): the A tile they read k-groups from.
 *
 * A sparse kernel reads, for one non-zero k-group kg, the same 4 bytes of k from each of its 4 rows. A is
 * [m][k] (NHWC rows), so `run` first copies 4 rows into a tile laid out [kg][4][4]: one k-group of all 4 rows
 * is then 16 consecutive bytes, one vector load whose 32-bit lanes are the rows (SDOT by element, or DUPs of
 * its 16-bit lanes). The copy costs 4*k bytes per 4 rows, shared by every 16-channel column block; rows past m
 * and bytes past k are zero (their sums are never stored / add nothing).
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
  const size_t kbs = qs8_spgemm_groups(k);
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

#endif
#endif
