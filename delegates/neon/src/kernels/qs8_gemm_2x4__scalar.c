/* The portable reference variant of the qs8 GEMM microkernel (see qs8_gemm.h): 2 rows x 4 output channels.
 *
 * Packed layout: for each group of 4 output channels (the last group zero-padded), 4 int32 biases with
 * -a_zero_point * sum_k w[n][k] folded in, then the 4 weight rows widened to int16 (k values each), one after
 * the other. Widening once at Prepare leaves `run` with int8->int16 widening of the activations only; its
 * loops are simple and restrict-qualified so the compiler vectorizes them (AVX2 pmaddwd on x86-64, where
 * the loader picks the AVX2 clone; NEON smlal on aarch64).
 */
#include <string.h>

#include "../requantize.h"
#include "qs8_gemm.h"
#include "qs8_gemm_add.h"
#include "multiversion.h"

#define NR 4
#define MR 2

static size_t group_bytes(size_t k) { return NR * sizeof(int32_t) + NR * k * sizeof(int16_t); }

size_t qs8_gemm_2x4__scalar_packed_size(size_t n, size_t k) { return ((n + NR - 1) / NR) * group_bytes(k); }

void qs8_gemm_2x4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                               void* packed) {
  uint8_t* out = (uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    int16_t* rows = (int16_t*)(void*)(out + NR * sizeof(int32_t));
    qs8_gemm_fold_bias(n0, NR, n, k, w, bias, a_zero_point, b);
    for (size_t j = 0; j < NR; j++) {
      const size_t c = n0 + j;
      for (size_t i = 0; i < k; i++) rows[j * k + i] = c < n ? w[c * k + i] : 0;
    }
    memcpy(out, b, sizeof(b));
    out += group_bytes(k);
  }
}

/* row: the output row (the fused ADD's residual row is the same one) */
static inline void store(int8_t* restrict c, size_t row, const int32_t* acc, size_t nc, size_t n0,
                         const qs8_gemm_params* p) {
  for (size_t j = 0; j < nc; j++) {
    const int32_t v = el_requantize_gemm(acc[j], p->multiplier[n0 + j], p->shift[n0 + j]) + p->out_zero_point;
    const int8_t conv = (int8_t)el_clamp(v, p->act_min, p->act_max);
    c[n0 + j] = p->add == NULL ? conv : qs8_gemm_add_one(conv, p->residual[row * p->residual_stride + n0 + j], p->add);
  }
}

EL_MULTIVERSION
void qs8_gemm_2x4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                              const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  const size_t gb = group_bytes(k);
  size_t row = 0;
  for (; row + MR <= m; row += MR) {
    const int8_t* restrict a0 = a + row * a_stride;
    const int8_t* restrict a1 = a0 + a_stride;
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += NR, g += gb) {
      int32_t b[NR];
      memcpy(b, g, sizeof(b));
      const int16_t* restrict w0 = (const int16_t*)(const void*)(g + NR * sizeof(int32_t));
      const int16_t* restrict w1 = w0 + k;
      const int16_t* restrict w2 = w1 + k;
      const int16_t* restrict w3 = w2 + k;
      int32_t c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (size_t i = 0; i < k; i++) {
        const int32_t x0 = a0[i], x1 = a1[i];
        c00 += x0 * w0[i];
        c01 += x0 * w1[i];
        c02 += x0 * w2[i];
        c03 += x0 * w3[i];
        c10 += x1 * w0[i];
        c11 += x1 * w1[i];
        c12 += x1 * w2[i];
        c13 += x1 * w3[i];
      }
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      const int32_t r0[NR] = {b[0] + c00, b[1] + c01, b[2] + c02, b[3] + c03};
      const int32_t r1[NR] = {b[0] + c10, b[1] + c11, b[2] + c12, b[3] + c13};
      store(c + row * c_stride, row, r0, nc, n0, p);
      store(c + (row + 1) * c_stride, row + 1, r1, nc, n0, p);
    }
  }
  for (; row < m; row++) {
    const int8_t* restrict a0 = a + row * a_stride;
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += NR, g += gb) {
      int32_t b[NR];
      memcpy(b, g, sizeof(b));
      const int16_t* restrict w0 = (const int16_t*)(const void*)(g + NR * sizeof(int32_t));
      int32_t c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      for (size_t i = 0; i < k; i++) {
        const int32_t x0 = a0[i];
        c00 += x0 * w0[i];
        c01 += x0 * w0[k + i];
        c02 += x0 * w0[2 * k + i];
        c03 += x0 * w0[3 * k + i];
      }
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      const int32_t r0[NR] = {b[0] + c00, b[1] + c01, b[2] + c02, b[3] + c03};
      store(c + row * c_stride, row, r0, nc, n0, p);
    }
  }
}
