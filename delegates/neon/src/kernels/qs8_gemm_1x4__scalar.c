/* The portable reference variant of the qs8 GEMM microkernel (see qs8_gemm.h).
 *
 * Packed layout: for each group of 4 output channels (the last group zero-padded), 4 int32 biases with
 * -a_zero_point * sum_k w[n][k] folded in, then the 4 weight rows, each k bytes, one after the other.
 * `run` computes one output row by 4 output channels at a time with four independent dot products over k:
 * simple, restrict-qualified loops the compiler vectorizes (SSE/AVX on x86-64, NEON on aarch64).
 */
#include <string.h>

#include "../requantize.h"
#include "qs8_gemm.h"

#define NR 4

static size_t group_bytes(size_t k) { return NR * sizeof(int32_t) + NR * k; }

size_t qs8_gemm_1x4__scalar_packed_size(size_t n, size_t k) { return ((n + NR - 1) / NR) * group_bytes(k); }

void qs8_gemm_1x4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                               void* packed) {
  uint8_t* out = (uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    int8_t* rows = (int8_t*)(out + NR * sizeof(int32_t));
    for (size_t j = 0; j < NR; j++) {
      const size_t c = n0 + j;
      if (c < n) {
        int32_t sum = 0;
        for (size_t i = 0; i < k; i++) sum += w[c * k + i];
        b[j] = (bias ? bias[c] : 0) - a_zero_point * sum;
        memcpy(rows + j * k, w + c * k, k);
      } else {
        b[j] = 0;
        memset(rows + j * k, 0, k);
      }
    }
    memcpy(out, b, sizeof(b));
    out += group_bytes(k);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
/* One library for every x86-64 machine: the loader picks the AVX2 clone where the CPU has it. */
#define EL_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define EL_MULTIVERSION
#endif

EL_MULTIVERSION
void qs8_gemm_1x4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                              const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  const size_t gb = group_bytes(k);
  for (size_t row = 0; row < m; row++) {
    const int8_t* restrict ar = a + row * a_stride;
    int8_t* restrict cr = c + row * c_stride;
    const uint8_t* g = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += NR, g += gb) {
      int32_t b[NR];
      memcpy(b, g, sizeof(b));
      const int8_t* restrict w0 = (const int8_t*)(g + NR * sizeof(int32_t));
      int32_t acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
      for (size_t i = 0; i < k; i++) {
        const int32_t av = ar[i];
        acc0 += av * w0[i];
        acc1 += av * w0[k + i];
        acc2 += av * w0[2 * k + i];
        acc3 += av * w0[3 * k + i];
      }
      const int32_t acc[NR] = {b[0] + acc0, b[1] + acc1, b[2] + acc2, b[3] + acc3};
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      for (size_t j = 0; j < nc; j++) {
        int32_t v = el_requantize_gemm(acc[j], p->multiplier[n0 + j], p->shift[n0 + j]) + p->out_zero_point;
        cr[n0 + j] = (int8_t)el_clamp(v, p->act_min, p->act_max);
      }
    }
  }
}
