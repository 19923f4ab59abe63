/* The BATCH_MATMUL kernel dispatch picks: 4 rows x 4 columns of int32 accumulators per tile over raw int8
 * products (the compiler keeps the 16 sums in registers and vectorizes the depth loop), the zero points
 * applied once per output through the row sums and the packed column terms (see qs8_bmm.h). Edge tiles
 * repeat the last row / column and store only the real ones. */
#include "qs8_bmm.h"
#include "requantize.h"

void qs8_bmm_4x4__scalar(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                         int8_t* c, size_t c_stride, const qs8_bmm_params* p) {
  const int32_t* col_term = (const int32_t*)packed;
  const int8_t* b = (const int8_t*)packed + n * sizeof(int32_t);
  for (size_t i0 = 0; i0 < m; i0 += 4) {
    const size_t mr = m - i0 < 4 ? m - i0 : 4;
    const int8_t* ar[4];
    int32_t row_term[4];
    qs8_bmm_tile_rows(a, a_stride, i0, mr, k, p->b_zero_point, ar, row_term);
    for (size_t j0 = 0; j0 < n; j0 += 4) {
      const size_t nr = n - j0 < 4 ? n - j0 : 4;
      const int8_t* bc[4];
      for (size_t q = 0; q < 4; q++) bc[q] = b + (j0 + (q < nr ? q : nr - 1)) * k;
      int32_t acc[4][4] = {{0}};
      for (size_t kk = 0; kk < k; kk++) {
        for (size_t r = 0; r < 4; r++) {
          const int32_t av = ar[r][kk];
          for (size_t q = 0; q < 4; q++) acc[r][q] += av * (int32_t)bc[q][kk];
        }
      }
      for (size_t r = 0; r < mr; r++) {
        int8_t* out = c + (i0 + r) * c_stride + j0;
        for (size_t q = 0; q < nr; q++) {
          const int32_t v = acc[r][q] + row_term[r] + col_term[j0 + q];
          out[q] = (int8_t)el_clamp(el_requantize(v, p->multiplier, p->shift) + p->out_zero_point, -128, 127);
        }
      }
    }
  }
}
