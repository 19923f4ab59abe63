/* ADD and MUL on x86-64 AVX2 (see qs8_vbinary.h): each call's vector body 8 elements a step, rounded as the
 * builtin's NEON-shaped body rounds (qs8_vbinary_rules.h), its tail through the same rules as the portable
 * variant. Parameters are per tensor, so every shift is one count for all lanes.
 *
 * gemmlowp's high multiply (ties away from zero, truncating division) equals floor((x * m + 2^30) / 2^31) for
 * every product but INT32_MIN * INT32_MIN (multipliers are positive), so it is the even/odd VPMULDQ sequence
 * of qs8_requantize_avx2.h; the rounding divide by 2^e adds 1 where the remainder exceeds half the divisor
 * (one more for negative values), as gemmlowp's RoundingDivideByPOT does. */
#if defined(__x86_64__)
#include <immintrin.h>

#include "qs8_vbinary.h"
#include "qs8_vbinary_avx2.h"
#include "qs8_vbinary_rules.h"

EL_TARGET_AVX2
void qs8_vadd_x16__avx2(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  const rescale out = rescale_of(p->out_multiplier, p->out_shift);
  const out_clamp o = out_clamp_of(p);
  size_t i = 0;
  for (; i < body; i += 8) {
    store8(y + i, add8(load8(a + i), load8(b + i), p, &out), &o);
  }
  for (; i < n; i++) y[i] = qs8_vadd_tail(a[i], b[i], p);
}

EL_TARGET_AVX2
void qs8_vaddc_x8__avx2(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  const size_t body = n / 8 * 8;
  const __m256i a_body = _mm256_set1_epi32(qs8_vadd_in_truncating(a, p->a_offset, p->a_multiplier, p->a_shift));
  const __m256i bo = _mm256_set1_epi32(p->b_offset), bm = _mm256_set1_epi32(p->b_multiplier);
  const __m128i b_right = _mm_cvtsi32_si128(-p->b_shift), up20 = _mm_cvtsi32_si128(QS8_VADD_LEFT_SHIFT);
  const rescale out = rescale_of(p->out_multiplier, p->out_shift);
  const out_clamp o = out_clamp_of(p);
  size_t i = 0;
  for (; i < body; i += 8) {
    const __m256i x = _mm256_sll_epi32(_mm256_add_epi32(load8(b + i), bo), up20);
    const __m256i vb = _mm256_sra_epi32(srdhm(x, bm), b_right);
    store8(y + i, truncate16(requantize(_mm256_add_epi32(a_body, vb), &out)), &o);
  }
  for (; i < n; i++) y[i] = qs8_vadd_tail(a, b[i], p);
}

/* MUL's bodies saturate the rescaled product to int16 (VQMOVN) */
static inline EL_TARGET_AVX2 __m256i mul8(__m256i a_plus, __m256i b_plus, const rescale* out) {
  const __m256i r = requantize(_mm256_mullo_epi32(a_plus, b_plus), out);
  return _mm256_packs_epi32(r, r);
}

EL_TARGET_AVX2
void qs8_vmul_x16__avx2(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  const __m256i ao = _mm256_set1_epi32(p->a_offset), bo = _mm256_set1_epi32(p->b_offset);
  const rescale out = rescale_of(p->out_multiplier, p->out_shift);
  const out_clamp o = out_clamp_of(p);
  size_t i = 0;
  for (; i < body; i += 8)
    store8(y + i, mul8(_mm256_add_epi32(load8(a + i), ao), _mm256_add_epi32(load8(b + i), bo), &out), &o);
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a[i], b[i], p), p);
}

EL_TARGET_AVX2
void qs8_vmulc_x16__avx2(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  const __m256i va = _mm256_set1_epi32(p->a_offset + a), bo = _mm256_set1_epi32(p->b_offset);
  const rescale out = rescale_of(p->out_multiplier, p->out_shift);
  const out_clamp o = out_clamp_of(p);
  size_t i = 0;
  for (; i < body; i += 8) store8(y + i, mul8(va, _mm256_add_epi32(load8(b + i), bo), &out), &o);
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a, b[i], p), p);
}

#endif /* __x86_64__ */
