/* qs8_spgemm_16x4__neon_mlal: block-sparse int8 GEMM for ARMv8.0 NEON (Raspberry Pi 4, Cortex-A72); packed layout
 * and block in qs8_spgemm.h.
 *
 * 16 rows of A at a time are copied to a [kb][16][4] tile (qs8_spgemm_neon.h); then, for 4 output channels, the
 * non-zero blocks are taken two at a time: per 16-byte quarter q of each block (4 rows x 4 k), SMULL of the first
 * block + SMLAL of the second (int16: two products per lane, exact for weights in [-127, 127], TFLite's int8
 * weight range; the kernel choice keeps weights holding -128 dense), then SADALP into int32: acc[j][2q], acc[j][2q+1]
 * hold rows 4q..4q+1 and 4q+2..4q+3 as (k01, k23) pairs, added pairwise once at the end.
 */
#if defined(__aarch64__)

#include <arm_neon.h>

#include "qs8_spgemm.h"
#include "qs8_spgemm_neon.h"

enum { MR = 16 };

size_t qs8_spgemm_16x4__neon_mlal_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_16x4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                     void* packed) {
  qs8_spgemm_pack_blocks(n, k, w, bias, a_zero_point, packed);
}

static inline int8x16_t weights_of(const int8_t* w) {
  return vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t*)(const void*)w));
}

/* One channel's sums over its non-zero blocks, 16 rows (acc[q]: rows 4q..4q+3), its folded bias added. */
static inline __attribute__((always_inline)) void channel(const int8_t* tile, const uint16_t* idx, const int8_t* w,
                                                          size_t blocks, int32_t bias, int32x4_t acc[4]) {
  int32x4_t s[8];
  for (int i = 0; i < 8; i++) s[i] = vdupq_n_s32(0);
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const int8_t* t0 = tile + (size_t)idx[b] * (MR * 4);
    const int8_t* t1 = tile + (size_t)idx[b + 1] * (MR * 4);
    const int8x16_t w0 = weights_of(w + 4 * b), w1 = weights_of(w + 4 * b + 4);
    for (int q = 0; q < 4; q++) {
      const int8x16_t a0 = vld1q_s8(t0 + 16 * q), a1 = vld1q_s8(t1 + 16 * q);
      s[2 * q] = vpadalq_s16(s[2 * q], vmlal_s8(vmull_s8(vget_low_s8(a0), vget_low_s8(w0)), vget_low_s8(a1),
                                               vget_low_s8(w1)));
      s[2 * q + 1] = vpadalq_s16(s[2 * q + 1], vmlal_high_s8(vmull_high_s8(a0, w0), a1, w1));
    }
  }
  if (b < blocks) {
    const int8_t* t0 = tile + (size_t)idx[b] * (MR * 4);
    const int8x16_t w0 = weights_of(w + 4 * b);
    for (int q = 0; q < 4; q++) {
      const int8x16_t a0 = vld1q_s8(t0 + 16 * q);
      s[2 * q] = vpadalq_s16(s[2 * q], vmull_s8(vget_low_s8(a0), vget_low_s8(w0)));
      s[2 * q + 1] = vpadalq_s16(s[2 * q + 1], vmull_high_s8(a0, w0));
    }
  }
  const int32x4_t b4 = vdupq_n_s32(bias);
  for (int q = 0; q < 4; q++) acc[q] = vaddq_s32(vpaddq_s32(s[2 * q], s[2 * q + 1]), b4);
}

void qs8_spgemm_16x4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  int8_t tile[MR * 4 * ((QS8_SPGEMM_NEON_MAX_K + 3) / 4)] __attribute__((aligned(16)));
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
      int8x16_t out[4]; /* channel j, rows 0..15 */
      for (size_t j = 0; j < 4; j++) {
        int32x4_t acc[4];
        channel(tile, grp.idx[j], grp.w[j], grp.blocks[j], grp.bias[j], acc);
        const int32_t mult = j < nc ? p->multiplier[n0 + j] : 0, shift = j < nc ? p->shift[n0 + j] : 0;
        const int16x8_t r07 = qs8_spgemm_requant8(acc[0], acc[1], mult, shift, zp);
        const int16x8_t r815 = qs8_spgemm_requant8(acc[2], acc[3], mult, shift, zp);
        out[j] = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(r07), r815), lo), hi);
      }
      qs8_spgemm_store4x16(out, rows, nc, c + row * c_stride + n0, c_stride);
    }
  }
}

#endif
