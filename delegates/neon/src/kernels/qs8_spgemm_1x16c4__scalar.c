/* qs8_spgemm_1x16c4__scalar: the portable block-sparse variant (see qs8_spgemm.h): one row of A at a time
 * against each 16-channel column block, summing only its non-zero k-groups. The twin the NEON and AVX2 variants
 * are checked beside, and what sparse=always runs on a CPU with neither. */
#include "../requantize.h"
#include "qs8_spgemm.h"

size_t qs8_spgemm_1x16c4__scalar_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_1x16c4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                    void* packed) {
  qs8_spgemm_pack_blocks(QS8_SPGEMM_C4, n, k, w, bias, a_zero_point, packed);
}

void qs8_spgemm_1x16c4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                   const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  const uint8_t* at = (const uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
    const qs8_spgemm_block blk = qs8_spgemm_read_block(at);
    at = blk.next;
    const size_t nc = n - n0 < QS8_SPGEMM_NR ? n - n0 : QS8_SPGEMM_NR;
    for (size_t row = 0; row < m; row++) {
      const int8_t* ar = a + row * a_stride;
      int32_t acc[QS8_SPGEMM_NR];
      for (size_t j = 0; j < QS8_SPGEMM_NR; j++) acc[j] = blk.bias[j];
      for (size_t g = 0; g < blk.groups; g++) {
        const size_t col = (size_t)blk.idx[g] * QS8_SPGEMM_KB;
        const size_t len = k - col < QS8_SPGEMM_KB ? k - col : QS8_SPGEMM_KB; /* A is not read past k */
        const int8_t* wg = blk.w + g * QS8_SPGEMM_GROUP_BYTES;
        for (size_t j = 0; j < nc; j++)
          for (size_t i = 0; i < len; i++) acc[j] += ar[col + i] * wg[j * QS8_SPGEMM_KB + i];
      }
      for (size_t j = 0; j < nc; j++) {
        const int32_t v = el_requantize_gemm(acc[j], p->multiplier[n0 + j], p->shift[n0 + j]) + p->out_zero_point;
        c[row * c_stride + n0 + j] = (int8_t)el_clamp(v, p->act_min, p->act_max);
      }
    }
  }
}
