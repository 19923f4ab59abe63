/* The BATCH_MATMUL kernel on aarch64 (ARMv8.0, the Pi 4 and up): the 4x4 tile of qs8_bmm_4x4__scalar with its
 * depth loop in NEON, 8 k at a time: SMULL of raw int8 rows and packed RHS columns into int16 (exact, even
 * -128 * -128), SADALP into 16 int32x4 accumulators, one ADDV per output; the k tail, the zero-point terms and
 * the double-rounding requantization are the scalar variant's (see qs8_bmm.h). */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "qs8_bmm.h"
#include "requantize.h"

void qs8_bmm_4x4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                            int8_t* c, size_t c_stride, const qs8_bmm_params* p) {
  const int32_t* col_term = (const int32_t*)packed;
  const int8_t* b = (const int8_t*)packed + n * sizeof(int32_t);
  const size_t k8 = k & ~(size_t)7;
  for (size_t i0 = 0; i0 < m; i0 += 4) {
    const size_t mr = m - i0 < 4 ? m - i0 : 4;
    const int8_t* ar[4];
    int32_t row_term[4];
    for (size_t r = 0; r < 4; r++) {
      ar[r] = a + (i0 + (r < mr ? r : mr - 1)) * a_stride;
      int32_t sum = 0;
      for (size_t kk = 0; kk < k; kk++) sum += ar[r][kk];
      row_term[r] = -p->b_zero_point * sum;
    }
    for (size_t j0 = 0; j0 < n; j0 += 4) {
      const size_t nr = n - j0 < 4 ? n - j0 : 4;
      const int8_t* bc[4];
      for (size_t q = 0; q < 4; q++) bc[q] = b + (j0 + (q < nr ? q : nr - 1)) * k;
      int32x4_t v[4][4];
      for (size_t r = 0; r < 4; r++)
        for (size_t q = 0; q < 4; q++) v[r][q] = vdupq_n_s32(0);
      for (size_t kk = 0; kk < k8; kk += 8) {
        const int8x8_t b0 = vld1_s8(bc[0] + kk), b1 = vld1_s8(bc[1] + kk), b2 = vld1_s8(bc[2] + kk),
                       b3 = vld1_s8(bc[3] + kk);
        for (size_t r = 0; r < 4; r++) {
          const int8x8_t av = vld1_s8(ar[r] + kk);
          v[r][0] = vpadalq_s16(v[r][0], vmull_s8(av, b0));
          v[r][1] = vpadalq_s16(v[r][1], vmull_s8(av, b1));
          v[r][2] = vpadalq_s16(v[r][2], vmull_s8(av, b2));
          v[r][3] = vpadalq_s16(v[r][3], vmull_s8(av, b3));
        }
      }
      for (size_t r = 0; r < mr; r++) {
        int8_t* out = c + (i0 + r) * c_stride + j0;
        for (size_t q = 0; q < nr; q++) {
          int32_t acc = vaddvq_s32(v[r][q]);
          for (size_t kk = k8; kk < k; kk++) acc += (int32_t)ar[r][kk] * (int32_t)bc[q][kk];
          const int32_t x = acc + row_term[r] + col_term[j0 + q];
          out[q] = (int8_t)el_clamp(el_requantize(x, p->multiplier, p->shift) + p->out_zero_point, -128, 127);
        }
      }
    }
  }
}
#endif /* __aarch64__ */
