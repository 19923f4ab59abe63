/* The BATCH_MATMUL kernel on aarch64 (ARMv8.0, the Pi 4 and up): the 4x4 tile of qs8_bmm_4x4__scalar with its
 * depth loop in NEON, 8 k at a time: SMULL of raw int8 rows and packed RHS columns into int16 (exact, even
 * -128 * -128), SADALP into 16 int32x4 accumulators, the k tail as one more step over the row's last 8 k with
 * the lanes summed before masked off; per tile row, pairwise adds give the four sums, the k tail and
 * the zero-point terms (see qs8_bmm.h) are added, and el_requantize's double rounding runs on the four lanes. */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "qs8_bmm.h"
#include "requantize.h"

void qs8_bmm_4x4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                            int8_t* c, size_t c_stride, const qs8_bmm_params* p) {
  const int32_t* col_term = (const int32_t*)packed;
  const int8_t* b = (const int8_t*)packed + n * sizeof(int32_t);
  const size_t k8 = k & ~(size_t)7;
  const int32x4_t left = vdupq_n_s32(p->shift > 0 ? p->shift : 0);
  const int32x4_t right = vdupq_n_s32(p->shift > 0 ? 0 : p->shift); /* a negative shift count: rightwards */
  const int32x4_t mult = vdupq_n_s32(p->multiplier), out_zp = vdupq_n_s32(p->out_zero_point);
  static const int8_t lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  const int8x8_t tail_mask = vreinterpret_s8_u8(vcge_s8(vld1_s8(lane), vdup_n_s8((int8_t)(8 - (k - k8)))));
  for (size_t i0 = 0; i0 < m; i0 += 4) {
    const size_t mr = m - i0 < 4 ? m - i0 : 4;
    const int8_t* ar[4];
    int32_t row_term[4];
    qs8_bmm_tile_rows(a, a_stride, i0, mr, k, p->b_zero_point, ar, row_term);
    for (size_t j0 = 0; j0 < n; j0 += 4) {
      const size_t nr = n - j0 < 4 ? n - j0 : 4;
      const int8_t* bc[4];
      for (size_t q = 0; q < 4; q++) bc[q] = b + (j0 + (q < nr ? q : nr - 1)) * k;
      int32x4_t v[4][4];
      for (size_t r = 0; r < 4; r++)
        for (size_t q = 0; q < 4; q++) v[r][q] = vdupq_n_s32(0);
      /* the k tail, when k >= 8: the last 8 k of each row (inside the row) with the lanes already summed zeroed */
      const size_t steps = k8 + (k > k8 && k >= 8 ? 8 : 0);
      for (size_t kk = 0; kk < steps; kk += 8) {
        const size_t at = kk < k8 ? kk : k - 8;
        const int8x8_t keep = kk < k8 ? vdup_n_s8(-1) : tail_mask;
        const int8x8_t b0 = vld1_s8(bc[0] + at), b1 = vld1_s8(bc[1] + at), b2 = vld1_s8(bc[2] + at),
                       b3 = vld1_s8(bc[3] + at);
        for (size_t r = 0; r < 4; r++) {
          const int8x8_t av = vand_s8(vld1_s8(ar[r] + at), keep);
          v[r][0] = vpadalq_s16(v[r][0], vmull_s8(av, b0));
          v[r][1] = vpadalq_s16(v[r][1], vmull_s8(av, b1));
          v[r][2] = vpadalq_s16(v[r][2], vmull_s8(av, b2));
          v[r][3] = vpadalq_s16(v[r][3], vmull_s8(av, b3));
        }
      }
      int32_t ct[4];
      for (size_t q = 0; q < 4; q++) ct[q] = col_term[j0 + (q < nr ? q : nr - 1)];
      const int32x4_t col = vld1q_s32(ct);
      for (size_t r = 0; r < mr; r++) {
        int32_t tail[4] = {0, 0, 0, 0}; /* k < 8: no vector step fits in the row */
        for (size_t kk = k < 8 ? 0 : k; kk < k; kk++)
          for (size_t q = 0; q < 4; q++) tail[q] += (int32_t)ar[r][kk] * (int32_t)bc[q][kk];
        int32x4_t x = vpaddq_s32(vpaddq_s32(v[r][0], v[r][1]), vpaddq_s32(v[r][2], v[r][3]));
        x = vaddq_s32(vaddq_s32(x, vld1q_s32(tail)), vaddq_s32(col, vdupq_n_s32(row_term[r])));
        /* el_requantize, four lanes: the left shift (wrapping), SQRDMULH (= gemmlowp's high multiply), then
         * RoundingDivideByPOT: one less on negative values before SRSHL's half-up rounding = ties away from 0 */
        x = vshlq_s32(x, left);
        x = vqrdmulhq_s32(x, mult);
        x = vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right), 31)), right);
        x = vqaddq_s32(x, out_zp);
        int8_t lanes[8];
        vst1_s8(lanes, vqmovn_s16(vcombine_s16(vqmovn_s32(x), vdup_n_s16(0)))); /* saturation = the int8 clamp */
        int8_t* out = c + (i0 + r) * c_stride + j0;
        for (size_t q = 0; q < nr; q++) out[q] = lanes[q];
      }
    }
  }
}
#endif /* __aarch64__ */
