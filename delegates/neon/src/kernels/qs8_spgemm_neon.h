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

enum { QS8_SPGEMM_TILE_ROWS = 4 };

/* tile[kb][4][4] from rows [0, rows) of a (rows <= 4). Four whole rows go 16 bytes of k at a time through one
 * ST4 of 32-bit lanes, which is the 4x4 transpose itself: the meter costs it 9 est. cycles a 64 bytes where
 * TRN/ZIP and four stores cost 15 (a store and a ZIP of Q registers are 3 micro-ops each in its model).
 * Not inlined: inside the Pi 5 kernel's chunk loop GCC 12 built the ST4's register quad on the stack. */
static __attribute__((noinline)) void qs8_spgemm_tile_a(int8_t* restrict tile, size_t rows, size_t k, const int8_t* a,
                                     size_t a_stride) {
  const size_t kbs = qs8_spgemm_groups(k);
  size_t from = 0; /* k-groups the ST4s filled (whole tiles only) */
  if (rows == QS8_SPGEMM_TILE_ROWS) {
    const int8_t* a0 = a;
    const int8_t* a1 = a0 + a_stride;
    const int8_t* a2 = a1 + a_stride;
    const int8_t* a3 = a2 + a_stride;
    const size_t vec_end = k / 16 * 16;
    for (size_t kk = 0; kk < vec_end; kk += 16) {
      /* one initializer: GCC 12 builds a struct assigned field by field on the stack */
      const int32x4x4_t v = {{vreinterpretq_s32_s8(vld1q_s8(a0 + kk)), vreinterpretq_s32_s8(vld1q_s8(a1 + kk)),
                              vreinterpretq_s32_s8(vld1q_s8(a2 + kk)), vreinterpretq_s32_s8(vld1q_s8(a3 + kk))}};
      vst4q_s32((int32_t*)(void*)(tile + kk * QS8_SPGEMM_TILE_ROWS), v);
    }
    from = vec_end / QS8_SPGEMM_KB;
  }
  for (size_t i = 0; i < QS8_SPGEMM_TILE_ROWS; i++) { /* what the ST4s did not take: k's tail, rows past m */
    for (size_t kb = from; kb < kbs; kb++) {
      int8_t* dst = tile + (kb * QS8_SPGEMM_TILE_ROWS + i) * QS8_SPGEMM_KB;
      memset(dst, 0, QS8_SPGEMM_KB);
      if (i < rows) {
        const size_t col = kb * QS8_SPGEMM_KB;
        memcpy(dst, a + i * a_stride + col, k - col < QS8_SPGEMM_KB ? k - col : QS8_SPGEMM_KB);
      }
    }
  }
}

#endif
#endif
