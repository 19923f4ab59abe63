/* qs8_spgemm_32x4__neondot: block-sparse int8 GEMM for ARMv8.2 with the dot product (Raspberry Pi 5,
 * Cortex-A76); packed layout and block in qs8_spgemm.h. Compiled alone with -march=armv8.2-a+dotprod; dispatch
 * runs it only where the CPU reports EL_CPU_DOTPROD.
 *
 * 32 rows of A at a time are copied to a [kb][32][4] tile (qs8_spgemm_neon.h); then, for 4 output channels,
 * each non-zero block costs two 64-byte loads of the tile and 8 SDOTs against the block's 4 weights broadcast:
 *
 *     SDOT acc[j][q].4s, tile[kb][4q..4q+3].16b, w[j][b].4b (all lanes)     4 rows x 4 k per instruction
 *
 * so acc[j][q] holds channel j of rows 4q..4q+3 outward, with no cross-lane reduction. 32 rows (not 16) halve
 * the index, weight and loop instructions per MAC, which the meter showed decide the cost at 25% density.
 */
#if defined(__aarch64__)

#include <arm_neon.h>

#include "qs8_spgemm.h"
#include "qs8_spgemm_neon.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qs8_spgemm_32x4__neondot.c must be compiled with -march=armv8.2-a+dotprod"
#endif

enum { MR = 32 };

size_t qs8_spgemm_32x4__neondot_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_32x4__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                   void* packed) {
  qs8_spgemm_pack_blocks(n, k, w, bias, a_zero_point, packed);
}

/* One channel's sums over its non-zero blocks, 32 rows (acc[q]: rows 4q..4q+3), plus its folded bias. */
static inline __attribute__((always_inline)) void channel(const int8_t* tile, const uint16_t* idx, const int8_t* w,
                                                          size_t blocks, int32_t bias, int32x4_t acc[8]) {
  int32x4_t s[8];
  for (int q = 0; q < 8; q++) s[q] = vdupq_n_s32(bias);
  for (size_t b = 0; b < blocks; b++) {
    const int8_t* t = tile + (size_t)idx[b] * (MR * 4);
    const int8x16_t wv = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t*)(const void*)(w + 4 * b)));
    for (int q = 0; q < 8; q++) s[q] = vdotq_s32(s[q], vld1q_s8(t + 16 * q), wv);
  }
  for (int q = 0; q < 8; q++) acc[q] = s[q];
}

void qs8_spgemm_32x4__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                              int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  int8_t tile[MR * 4 * ((QS8_SPGEMM_DOT_MAX_K + 3) / 4)] __attribute__((aligned(16)));
  const int16x8_t zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
  for (size_t row = 0; row < m; row += MR) {
    const size_t rows = m - row < MR ? m - row : MR;
    qs8_spgemm_tile_a(tile, MR, rows, k, a + row * a_stride, a_stride);
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
      qs8_spgemm_group grp;
      qs8_spgemm_read_group(g, &grp);
      g = grp.next;
      const size_t nc = n - n0 < QS8_SPGEMM_NR ? n - n0 : QS8_SPGEMM_NR;
      int8x16_t out[2][4]; /* rows 0..15 | 16..31 of channel j */
      for (size_t j = 0; j < 4; j++) {
        int32x4_t acc[8];
        channel(tile, grp.idx[j], grp.w[j], grp.blocks[j], grp.bias[j], acc);
        const int32_t mult = j < nc ? p->multiplier[n0 + j] : 0, shift = j < nc ? p->shift[n0 + j] : 0;
        for (int h = 0; h < 2; h++) {
          const int16x8_t r07 = qs8_spgemm_requant8(acc[4 * h], acc[4 * h + 1], mult, shift, zp);
          const int16x8_t r815 = qs8_spgemm_requant8(acc[4 * h + 2], acc[4 * h + 3], mult, shift, zp);
          out[h][j] = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(r07), r815), lo), hi);
        }
      }
      int8_t* c0 = c + row * c_stride + n0;
      qs8_spgemm_store4x16(out[0], rows < 16 ? rows : 16, nc, c0, c_stride);
      if (rows > 16) qs8_spgemm_store4x16(out[1], rows - 16, nc, c0 + 16 * c_stride, c_stride);
    }
  }
}

#endif
