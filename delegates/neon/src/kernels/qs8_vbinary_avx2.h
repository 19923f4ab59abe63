/* The AVX2 pieces of the int8 ADD / MUL vector bodies (see qs8_vbinary__avx2.c for the why of each), shared by
 * that variant and the AVX2 GEMM's fused residual ADD (qs8_gemm_add.h), so both round with the same code.
 * Callers include it only from functions built with target("avx2"). */
#ifndef EDGELIFT_QS8_VBINARY_AVX2_H
#define EDGELIFT_QS8_VBINARY_AVX2_H

#include <immintrin.h>

#include "qs8_requantize_avx2.h"
#include "qs8_vbinary.h"

/* gemmlowp SaturatingRoundingDoublingHighMul by one multiplier (the saturating case cannot occur: m > 0) */
static inline EL_TARGET_AVX2 __m256i srdhm(__m256i x, __m256i m) {
  const __m256i round = _mm256_set1_epi64x(INT64_C(1) << 30);
  const __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), round), 31);
  const __m256i odd = _mm256_slli_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m), round), 1);
  return _mm256_blend_epi32(even, odd, 0xAA);
}

/* gemmlowp RoundingDivideByPOT by e >= 0 (ties away from zero) */
static inline EL_TARGET_AVX2 __m256i rounding_divide(__m256i x, __m128i e, __m256i mask) {
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  const __m256i up = _mm256_cmpgt_epi32(_mm256_and_si256(x, mask), threshold); /* -1 where it rounds up */
  return _mm256_sub_epi32(_mm256_sra_epi32(x, e), up);
}

/* el_requantize() by one multiplier and shift (TFLite convention) */
typedef struct rescale {
  __m256i mult, mask;
  __m128i left, right;
} rescale;

static inline EL_TARGET_AVX2 rescale rescale_of(int32_t multiplier, int32_t shift) {
  const int32_t right = shift > 0 ? 0 : -shift;
  rescale r;
  r.mult = _mm256_set1_epi32(multiplier);
  r.mask = _mm256_set1_epi32((int32_t)((UINT32_C(1) << right) - 1));
  r.left = _mm_cvtsi32_si128(shift > 0 ? shift : 0);
  r.right = _mm_cvtsi32_si128(right);
  return r;
}

static inline EL_TARGET_AVX2 __m256i requantize(__m256i x, const rescale* r) {
  return rounding_divide(srdhm(_mm256_sll_epi32(x, r->left), r->mult), r->right, r->mask);
}

typedef struct out_clamp {
  __m256i zero_point; /* int16 lanes */
  __m128i act_min, act_max;
} out_clamp;

static inline EL_TARGET_AVX2 out_clamp out_clamp_of(const qs8_vbinary_params* p) {
  out_clamp o;
  o.zero_point = _mm256_set1_epi16((int16_t)p->out_zero_point);
  o.act_min = _mm_set1_epi8((int8_t)p->act_min);
  o.act_max = _mm_set1_epi8((int8_t)p->act_max);
  return o;
}

/* int16 lanes [v0..v3 v0..v3 | v4..v7 v4..v7] + zero point (wrapping), saturated to int8, clamped, stored */
static inline EL_TARGET_AVX2 void store8(int8_t* y, __m256i v16, const out_clamp* o) {
  const __m256i s = _mm256_packs_epi16(_mm256_add_epi16(v16, o->zero_point), _mm256_setzero_si256());
  const __m128i b = _mm_unpacklo_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  _mm_storel_epi64((__m128i*)(void*)y, _mm_min_epi8(_mm_max_epi8(b, o->act_min), o->act_max));
}

static inline EL_TARGET_AVX2 __m256i load8(const int8_t* x) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(const void*)x));
}

/* ADD's bodies narrow by truncation to int16 (VMOVN) */
static inline EL_TARGET_AVX2 __m256i truncate16(__m256i v) {
  const __m256i low = _mm256_and_si256(v, _mm256_set1_epi32(0xFFFF));
  return _mm256_packus_epi32(low, low);
}

/* (x + offset) << (20 + shift), truncating when the count is negative (NEON's VSHL by a signed count) */
static inline EL_TARGET_AVX2 __m256i shift_signed(__m256i x, int s) {
  return s >= 0 ? _mm256_sll_epi32(x, _mm_cvtsi32_si128(s)) : _mm256_sra_epi32(x, _mm_cvtsi32_si128(-s));
}

/* ADD's elementwise vector body on 8 lanes of int32 inputs (each in int8 range), before store8 */
static inline EL_TARGET_AVX2 __m256i add8(__m256i a, __m256i b, const qs8_vbinary_params* p, const rescale* out) {
  const __m256i va = srdhm(shift_signed(_mm256_add_epi32(a, _mm256_set1_epi32(p->a_offset)),
                                        QS8_VADD_LEFT_SHIFT + p->a_shift),
                           _mm256_set1_epi32(p->a_multiplier));
  const __m256i vb = srdhm(shift_signed(_mm256_add_epi32(b, _mm256_set1_epi32(p->b_offset)),
                                        QS8_VADD_LEFT_SHIFT + p->b_shift),
                           _mm256_set1_epi32(p->b_multiplier));
  return truncate16(requantize(_mm256_add_epi32(va, vb), out));
}

#endif
