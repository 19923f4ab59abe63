/* qs8_spgemm_1x4__scalar: the portable block-sparse variant (see qs8_spgemm.h): one row of A at a time, each
 * output channel summing only its non-zero 1x4 blocks. The twin the NEON variants are checked beside, and what
 * x86-64 runs. */
#include "../requantize.h"
#include "qs8_spgemm.h"

size_t qs8_spgemm_1x4__scalar_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_1x4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                 void* packed) {
  qs8_spgemm_pack_blocks(n, k, w, bias, a_zero_point, packed);
}

void qs8_spgemm_1x4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  const size_t kfull = k / QS8_SPGEMM_KB; /* blocks wholly inside k; the last one may be cut */
  const uint8_t* g = (const uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
    qs8_spgemm_group grp;
    qs8_spgemm_read_group(g, &grp);
    g = grp.next;
    const size_t nc = n - n0 < QS8_SPGEMM_NR ? n - n0 : QS8_SPGEMM_NR;
    for (size_t j = 0; j < nc; j++) {
      const uint16_t* idx = grp.idx[j];
      const int8_t* wv = grp.w[j];
      const size_t blocks = grp.blocks[j];
      const int32_t mult = p->multiplier[n0 + j], shift = p->shift[n0 + j];
      for (size_t row = 0; row < m; row++) {
        const int8_t* ar = a + row * a_stride;
        int32_t acc = grp.bias[j];
        for (size_t b = 0; b < blocks; b++) {
          const size_t kb = idx[b];
          const int8_t* x = ar + kb * QS8_SPGEMM_KB;
          const int8_t* y = wv + b * QS8_SPGEMM_KB;
          if (kb < kfull) {
            acc += x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];
          } else { /* the block cut by k: its padding weights are 0, but A must not be read past k */
            for (size_t i = 0; kb * QS8_SPGEMM_KB + i < k; i++) acc += x[i] * y[i];
          }
        }
        const int32_t v = el_requantize_gemm(acc, mult, shift) + p->out_zero_point;
        c[row * c_stride + n0 + j] = (int8_t)el_clamp(v, p->act_min, p->act_max);
      }
    }
  }
}
