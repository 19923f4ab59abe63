/* The reference twin of the BATCH_MATMUL kernels: one output at a time, the zero points subtracted term by term
 * (no expansion), so it shares nothing with the tiled variant but the packed layout and the requantization. */
#include "qs8_bmm.h"
#include "requantize.h"

void qs8_bmm_1x1__scalar(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                         int8_t* c, size_t c_stride, const qs8_bmm_params* p) {
  const int8_t* b = (const int8_t*)packed + n * sizeof(int32_t); /* [n][k]; the column terms are not used */
  for (size_t i = 0; i < m; i++) {
    const int8_t* row = a + i * a_stride;
    for (size_t j = 0; j < n; j++) {
      const int8_t* col = b + j * k;
      int32_t acc = 0;
      for (size_t kk = 0; kk < k; kk++) acc += ((int32_t)row[kk] - p->a_zero_point) * ((int32_t)col[kk] - p->b_zero_point);
      c[i * c_stride + j] = (int8_t)el_clamp(el_requantize(acc, p->multiplier, p->shift) + p->out_zero_point, -128, 127);
    }
  }
}
