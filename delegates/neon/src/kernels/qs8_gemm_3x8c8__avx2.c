/* qs8 GEMM on x86-64 AVX2 (see qs8_gemm.h): 3 rows x 8 output channels, k in steps of 8 ("c8"), VPMADDWD.
 *
 * Packed layout, per group of 8 output channels (the last one zero-padded): 8 int32 biases with
 * -a_zero_point * sum_k w[n][k] folded in, then for each step of 8 k (k rounded up with zero weights) four
 * 32-byte registers of int16 weights: register j holds channel j in its low half and channel j + 4 in its high
 * half, 8 k values each. Weights widen once at prepare; `run` widens only the activations (8 per row and step,
 * duplicated into both halves), so one VPMADDWD gives 4 pair sums for each of two channels.
 * 3 rows x 4 registers = 12 accumulators + 4 weights fit AVX2's 16 registers (a fourth row would spill). At the
 * end, three VPHADDDs per row leave the 8 channels in order (the j / j + 4 pairing above is what makes it so).
 * Products of int8 values in int16 lanes pair-summed in int32 cannot overflow, -128 weights included. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_requantize_avx2.h"
#include "qs8_vbinary_avx2.h"

#define NR 8
#define MR 3
#define MC 48  /* rows per panel: a panel of activations stays in L1/L2 while every channel group passes over it */
#define KC 256 /* k per block (a multiple of 8): a group's block of weights (4 KB of int16) and the panel's 12 KB
                * of activations stay in L1 for large k; accumulators wait in `partial` between blocks */

static size_t round8(size_t k) { return (k + 7) / 8 * 8; }
static size_t group_bytes(size_t k) { return NR * sizeof(int32_t) + NR * round8(k) * sizeof(int16_t); }

size_t qs8_gemm_3x8c8__avx2_packed_size(size_t n, size_t k) { return (n + NR - 1) / NR * group_bytes(k); }

void qs8_gemm_3x8c8__avx2_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                               void* packed) {
  uint8_t* out = (uint8_t*)packed;
  const size_t k8 = round8(k);
  for (size_t n0 = 0; n0 < n; n0 += NR, out += group_bytes(k)) {
    int32_t b[NR];
    qs8_gemm_fold_bias(n0, NR, n, k, w, bias, a_zero_point, b);
    memcpy(out, b, sizeof b);
    int16_t* q = (int16_t*)(void*)(out + sizeof b);
    for (size_t k0 = 0; k0 < k8; k0 += 8) {
      for (size_t reg = 0; reg < 4; reg++) {
        for (size_t half = 0; half < 2; half++) {
          const size_t c = n0 + reg + 4 * half;
          for (size_t i = 0; i < 8; i++) *q++ = c < n && k0 + i < k ? w[c * k + k0 + i] : 0;
        }
      }
    }
  }
}

/* 8 activations from a + k0 (fewer past k: zeros, nothing read beyond the row), widened into both halves. */
static inline EL_TARGET_AVX2 __m256i load_a8(const int8_t* a, size_t k0, size_t k) {
  int64_t v = 0;
  memcpy(&v, a + k0, k - k0 >= 8 ? 8 : k - k0);
  return _mm256_cvtepi8_epi16(_mm_set1_epi64x(v));
}

/* Channel sums of one row's four registers, + bias, in channel order. */
static inline EL_TARGET_AVX2 __m256i reduce_row(__m256i v0, __m256i v1, __m256i v2, __m256i v3, __m256i bias) {
  const __m256i s01 = _mm256_hadd_epi32(v0, v1); /* c0 c0 c1 c1 | c4 c4 c5 c5 */
  const __m256i s23 = _mm256_hadd_epi32(v2, v3); /* c2 c2 c3 c3 | c6 c6 c7 c7 */
  return _mm256_add_epi32(_mm256_hadd_epi32(s01, s23), bias);
}

/* The fused residual ADD (qs8_gemm_add.h), built once per call: the ADD's parameters and output rescale. */
typedef struct fused_add {
  const qs8_vbinary_params* p;
  rescale out;
  out_clamp clamp;
} fused_add;

/* nc (<= 8) residual bytes, widened; nothing read past them */
static inline EL_TARGET_AVX2 __m256i load_residual(const int8_t* r, size_t nc) {
  int64_t v = 0;
  memcpy(&v, r, nc);
  return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v));
}

/* res: this row's residual at the group's first channel (NULL: no fused ADD) */
static inline EL_TARGET_AVX2 void store_row(int8_t* c, __m256i acc, const el_requant8_avx2* q, size_t nc,
                                            const fused_add* f, const int8_t* res) {
  if (res != NULL) {
    int8_t tmp[8];
    store8(tmp, add8(el_requant8_avx2_apply(q, acc), load_residual(res, nc), f->p, &f->out), &f->clamp);
    memcpy(c, tmp, nc);
    return;
  }
  const __m128i y = el_narrow8_avx2(el_requant8_avx2_apply(q, acc));
  if (nc == NR) {
    _mm_storel_epi64((__m128i*)(void*)c, y);
  } else {
    int8_t tmp[16];
    _mm_storeu_si128((__m128i*)(void*)tmp, y);
    memcpy(c, tmp, nc);
  }
}

#define EL_MADD4(r, x)                                                  \
  do {                                                                  \
    acc##r##0 = _mm256_add_epi32(acc##r##0, _mm256_madd_epi16(x, w0)); \
    acc##r##1 = _mm256_add_epi32(acc##r##1, _mm256_madd_epi16(x, w1)); \
    acc##r##2 = _mm256_add_epi32(acc##r##2, _mm256_madd_epi16(x, w2)); \
    acc##r##3 = _mm256_add_epi32(acc##r##3, _mm256_madd_epi16(x, w3)); \
  } while (0)

/* Up to MR rows (rows > 1 and 2 alias row 0 when absent: computed, never stored) x one channel group, over the
 * k range [k0, k1) of one k block. `partial` carries the 12 accumulators from block to block; the last block
 * reduces, requantizes and stores. */
static inline EL_TARGET_AVX2 void tile(size_t rows, size_t k, size_t k0, size_t k1, const int8_t* a0,
                                       size_t a_stride, const uint8_t* group, int8_t* c0, size_t c_stride, size_t nc,
                                       const el_requant8_avx2* q, __m256i* partial, const fused_add* f,
                                       const int8_t* res0, size_t res_stride) {
  const int8_t* a1 = rows > 1 ? a0 + a_stride : a0;
  const int8_t* a2 = rows > 2 ? a1 + a_stride : a0;
  const __m256i* w = (const __m256i*)(const void*)(group + NR * sizeof(int32_t)) + k0 / 8 * 4;
  __m256i acc00, acc01, acc02, acc03, acc10, acc11, acc12, acc13, acc20, acc21, acc22, acc23;
  if (k0 == 0) {
    acc00 = _mm256_setzero_si256(), acc01 = acc00, acc02 = acc00, acc03 = acc00;
    acc10 = acc00, acc11 = acc00, acc12 = acc00, acc13 = acc00;
    acc20 = acc00, acc21 = acc00, acc22 = acc00, acc23 = acc00;
  } else {
    acc00 = partial[0], acc01 = partial[1], acc02 = partial[2], acc03 = partial[3];
    acc10 = partial[4], acc11 = partial[5], acc12 = partial[6], acc13 = partial[7];
    acc20 = partial[8], acc21 = partial[9], acc22 = partial[10], acc23 = partial[11];
  }
  for (; k0 + 8 <= k1; k0 += 8, w += 4) {
    const __m256i w0 = _mm256_loadu_si256(w), w1 = _mm256_loadu_si256(w + 1);
    const __m256i w2 = _mm256_loadu_si256(w + 2), w3 = _mm256_loadu_si256(w + 3);
    int64_t v0, v1, v2;
    memcpy(&v0, a0 + k0, 8);
    memcpy(&v1, a1 + k0, 8);
    memcpy(&v2, a2 + k0, 8);
    const __m256i x0 = _mm256_cvtepi8_epi16(_mm_set1_epi64x(v0));
    EL_MADD4(0, x0);
    const __m256i x1 = _mm256_cvtepi8_epi16(_mm_set1_epi64x(v1));
    EL_MADD4(1, x1);
    const __m256i x2 = _mm256_cvtepi8_epi16(_mm_set1_epi64x(v2));
    EL_MADD4(2, x2);
  }
  if (k0 < k1) { /* the last, partial step of the last block: padded weights are 0, missing activations read 0 */
    const __m256i w0 = _mm256_loadu_si256(w), w1 = _mm256_loadu_si256(w + 1);
    const __m256i w2 = _mm256_loadu_si256(w + 2), w3 = _mm256_loadu_si256(w + 3);
    const __m256i x0 = load_a8(a0, k0, k), x1 = load_a8(a1, k0, k), x2 = load_a8(a2, k0, k);
    EL_MADD4(0, x0);
    EL_MADD4(1, x1);
    EL_MADD4(2, x2);
  }
  if (k1 < k) {
    partial[0] = acc00, partial[1] = acc01, partial[2] = acc02, partial[3] = acc03;
    partial[4] = acc10, partial[5] = acc11, partial[6] = acc12, partial[7] = acc13;
    partial[8] = acc20, partial[9] = acc21, partial[10] = acc22, partial[11] = acc23;
    return;
  }
  const __m256i bias = _mm256_loadu_si256((const __m256i*)(const void*)group);
  const int8_t* res1 = res0 != NULL ? res0 + res_stride : NULL;
  const int8_t* res2 = res0 != NULL ? res0 + 2 * res_stride : NULL;
  store_row(c0, reduce_row(acc00, acc01, acc02, acc03, bias), q, nc, f, res0);
  if (rows > 1) store_row(c0 + c_stride, reduce_row(acc10, acc11, acc12, acc13, bias), q, nc, f, res1);
  if (rows > 2) store_row(c0 + 2 * c_stride, reduce_row(acc20, acc21, acc22, acc23, bias), q, nc, f, res2);
}

EL_TARGET_AVX2
void qs8_gemm_3x8c8__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                          int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  const size_t gb = group_bytes(k);
  fused_add f;
  memset(&f, 0, sizeof f);
  if (p->add != NULL) f.p = p->add, f.out = rescale_of(p->add->out_multiplier, p->add->out_shift),
                      f.clamp = out_clamp_of(p->add);
  __m256i partial[(MC + MR - 1) / MR][12]; /* the panel's accumulators between k blocks */
  for (size_t p0 = 0; p0 < m; p0 += MC) {
    const size_t pm = m - p0 < MC ? m - p0 : MC;
    const uint8_t* group = (const uint8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += NR, group += gb) {
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      const el_requant8_avx2 q = el_requant8_avx2_load(p, n0, nc);
      for (size_t k0 = 0; k0 < k; k0 += KC) {
        const size_t k1 = k - k0 < KC ? k : k0 + KC;
        for (size_t r = 0; r < pm; r += MR) {
          const size_t rows = pm - r < MR ? pm - r : MR;
          const int8_t* res = p->add != NULL ? p->residual + (p0 + r) * p->residual_stride + n0 : NULL;
          tile(rows, k, k0, k1, a + (p0 + r) * a_stride, a_stride, group, c + (p0 + r) * c_stride + n0, c_stride,
               nc, &q, partial[r / MR], &f, res, p->residual_stride);
        }
      }
    }
  }
}

#endif /* __x86_64__ */
