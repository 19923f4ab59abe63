/* qs8_spgemm_8x4__neon_mlal: block-sparse int8 GEMM for ARMv8.0 NEON (Raspberry Pi 4, Cortex-A72); packed layout
 * and block in qs8_spgemm.h.
 *
 * 8 rows of A at a time are copied to a [kb][8][4] tile (qs8_spgemm_neon.h); then, for 4 output channels, each
 * non-zero block costs one 32-byte load of the tile, the block's 4 weights broadcast, 4 SMULL/SMULL2 (int8 x int8
 * -> int16: 2 rows x 4 k each) and 4 SADALP (pairs into int32): acc[j][q] holds rows 2q, 2q+1 as
 * (k01, k23) pairs, added pairwise once at the end. Every product is widened alone, so weights of -128 are exact.
 */
#if defined(__aarch64__)

#include <arm_neon.h>

#include "qs8_spgemm.h"
#include "qs8_spgemm_neon.h"

enum { MR = 8 };

size_t qs8_spgemm_8x4__neon_mlal_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_8x4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                    void* packed) {
  qs8_spgemm_pack_blocks(n, k, w, bias, a_zero_point, packed);
}

/* One channel's sums over its non-zero blocks: rows 0..3 and 4..7, the folded bias added. */
static inline __attribute__((always_inline)) void channel(const int8_t* tile, const uint16_t* idx, const int8_t* w,
                                                          size_t blocks, int32_t bias, int32x4_t* r03,
                                                          int32x4_t* r47) {
  int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
  for (size_t b = 0; b < blocks; b++) {
    const int8_t* t = tile + (size_t)idx[b] * (MR * 4);
    const int8x16_t wv = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t*)(const void*)(w + 4 * b)));
    const int8x16_t a03 = vld1q_s8(t), a47 = vld1q_s8(t + 16);
    s0 = vpadalq_s16(s0, vmull_s8(vget_low_s8(a03), vget_low_s8(wv)));
    s1 = vpadalq_s16(s1, vmull_high_s8(a03, wv));
    s2 = vpadalq_s16(s2, vmull_s8(vget_low_s8(a47), vget_low_s8(wv)));
    s3 = vpadalq_s16(s3, vmull_high_s8(a47, wv));
  }
  const int32x4_t b4 = vdupq_n_s32(bias);
  *r03 = vaddq_s32(vpaddq_s32(s0, s1), b4);
  *r47 = vaddq_s32(vpaddq_s32(s2, s3), b4);
}

void qs8_spgemm_8x4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                               int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  int8_t tile[MR * 4 * ((QS8_SPGEMM_NEON_MAX_K + 3) / 4)] __attribute__((aligned(16)));
  const int16x8_t zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x8_t lo = vdup_n_s8((int8_t)p->act_min), hi = vdup_n_s8((int8_t)p->act_max);
  for (size_t row = 0; row < m; row += MR) {
    const size_t rows = m - row < MR ? m - row : MR;
    qs8_spgemm_tile_a(tile, MR, rows, k, a + row * a_stride, a_stride);
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
      qs8_spgemm_group grp;
      qs8_spgemm_read_group(g, &grp);
      g = grp.next;
      const size_t nc = n - n0 < QS8_SPGEMM_NR ? n - n0 : QS8_SPGEMM_NR;
      int8x8_t out[4]; /* channel j, rows 0..7 */
      for (size_t j = 0; j < 4; j++) {
        int32x4_t r03, r47;
        channel(tile, grp.idx[j], grp.w[j], grp.blocks[j], grp.bias[j], &r03, &r47);
        const int32_t mult = j < nc ? p->multiplier[n0 + j] : 0, shift = j < nc ? p->shift[n0 + j] : 0;
        out[j] = vmin_s8(vmax_s8(vqmovn_s16(qs8_spgemm_requant8(r03, r47, mult, shift, zp)), lo), hi);
      }
      /* [channel][row] -> [row][channel] */
      const int16x8_t z01 = vreinterpretq_s16_s8(vcombine_s8(vzip1_s8(out[0], out[1]), vzip2_s8(out[0], out[1])));
      const int16x8_t z23 = vreinterpretq_s16_s8(vcombine_s8(vzip1_s8(out[2], out[3]), vzip2_s8(out[2], out[3])));
      const int8x16_t none = vdupq_n_s8(0);
      qs8_spgemm_store_rows(vreinterpretq_s8_s16(vzip1q_s16(z01, z23)), vreinterpretq_s8_s16(vzip2q_s16(z01, z23)),
                            none, none, rows, nc, c + row * c_stride + n0, c_stride);
    }
  }
}

#endif
