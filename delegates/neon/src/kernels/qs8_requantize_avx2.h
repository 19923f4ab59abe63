/* TFLite's int8 GEMM requantization for 8 output channels in one AVX2 register (internal to the x86 kernels).
 *
 *   out = clamp(out_zero_point + el_requantize_gemm(acc, multiplier[n], shift[n]), act_min, act_max)
 *
 * lane for lane what el_requantize_gemm() in requantize.h gives (tests/neon/kernels checks it with zero
 * tolerance). x86 has no SQRDMULH / SRSHL, so ruy's rescale is spelled out, as ruy's own AVX2 kernel does:
 *   x << max(shift, 0)                 VPSLLVD (wrapping, like the scalar `(uint32_t)x << left`)
 *   (x * multiplier + 2^30) >> 31      VPMULDQ on even and odd lanes, 64-bit add, shifts, blend: the low 32
 *                                      bits of a logical 64-bit shift equal those of the arithmetic one
 *   rounding right shift by r          (y >> r) + ((y >> (r - 1)) & 1) for r > 0: ties round up, no overflow
 * Callers include it only from functions built with target("avx2"). */
#ifndef EDGELIFT_QS8_REQUANTIZE_AVX2_H
#define EDGELIFT_QS8_REQUANTIZE_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "qs8_gemm.h"

#define EL_TARGET_AVX2 __attribute__((target("avx2"))) /* SSE4.1 included */

typedef struct el_requant8_avx2 {
  __m256i mult, left, right, right_less_1, half; /* half: 1 in lanes that shift right, else 0 */
  __m256i zero_point, act_min, act_max;
} el_requant8_avx2;

/* Channels n0 .. n0 + 7 of p; those past `count` get multiplier 0 (their lanes are never stored). */
static inline EL_TARGET_AVX2 el_requant8_avx2 el_requant8_avx2_load(const qs8_gemm_params* p, size_t n0,
                                                                    size_t count) {
  int32_t mult[8] = {0}, shift[8] = {0};
  for (size_t j = 0; j < count && j < 8; j++) {
    mult[j] = p->multiplier[n0 + j];
    shift[j] = p->shift[n0 + j];
  }
  const __m256i s = _mm256_loadu_si256((const __m256i*)(const void*)shift);
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  el_requant8_avx2 q;
  q.mult = _mm256_loadu_si256((const __m256i*)(const void*)mult);
  q.left = _mm256_max_epi32(s, zero);
  q.right = _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero);
  q.right_less_1 = _mm256_max_epi32(_mm256_sub_epi32(q.right, one), zero);
  q.half = _mm256_and_si256(_mm256_cmpgt_epi32(q.right, zero), one);
  q.zero_point = _mm256_set1_epi32(p->out_zero_point);
  q.act_min = _mm256_set1_epi32(p->act_min);
  q.act_max = _mm256_set1_epi32(p->act_max);
  return q;
}

/* 8 int32 accumulators -> 8 int32 outputs in [act_min, act_max]. */
static inline EL_TARGET_AVX2 __m256i el_requant8_avx2_apply(const el_requant8_avx2* q, __m256i acc) {
  const __m256i x = _mm256_sllv_epi32(acc, q->left);
  const __m256i round = _mm256_set1_epi64x(INT64_C(1) << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, q->mult), round), 31);
  const __m256i odd_prod = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(q->mult, 32));
  const __m256i odd = _mm256_slli_epi64(_mm256_add_epi64(odd_prod, round), 1); /* bits 31..62 -> 32..63 */
  const __m256i high = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i half = _mm256_and_si256(_mm256_srav_epi32(high, q->right_less_1), q->half);
  const __m256i y = _mm256_add_epi32(_mm256_add_epi32(_mm256_srav_epi32(high, q->right), half), q->zero_point);
  return _mm256_min_epi32(_mm256_max_epi32(y, q->act_min), q->act_max);
}

/* 8 int32 already in int8 range -> the low 8 bytes of an SSE register, in order. */
static inline EL_TARGET_AVX2 __m128i el_narrow8_avx2(__m256i v) {
  const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(v, v), _mm256_setzero_si256());
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

#endif
