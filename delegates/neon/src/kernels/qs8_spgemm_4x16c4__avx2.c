/* qs8_spgemm_4x16c4__avx2: block-sparse qs8 GEMM on x86-64 AVX2 (see qs8_spgemm.h), 4 rows x 16 channels.
 *
 * Per non-zero k-group (K2 layout: two k pairs, each 16 channels x (k, k + 1)) the group's 64 weights widen to
 * int16 in four registers (pair p, channels 0-7 / 8-15), and each row's 4 activations become two broadcast
 * int16 pairs; one VPMADDWD then gives, per channel lane, a[k] w[k] + a[k+1] w[k+1] in int32. 4 rows x 2
 * registers = 8 accumulators + 4 weights + 2 activation pairs fit AVX2's 16 registers, and the weights widen
 * once per group for all four rows. Products of int8 values pair-summed in int32 cannot overflow (-128
 * included), so the sums are the dense kernels' exactly. Rows of a partial tile alias the last real row:
 * computed, never stored. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "qs8_requantize_avx2.h"
#include "qs8_spgemm.h"

#define MR 4

size_t qs8_spgemm_4x16c4__avx2_packed_size(size_t n, size_t k) { return qs8_spgemm_packed_bound(n, k); }

void qs8_spgemm_4x16c4__avx2_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                  void* packed) {
  qs8_spgemm_pack_blocks(QS8_SPGEMM_K2, n, k, w, bias, a_zero_point, packed);
}

/* Activations a[col .. col + 3] of one row as int16 pairs (k, k + 1) and (k + 2, k + 3), each broadcast to every
 * 32-bit lane; past k (the last group of a k that is not a multiple of 4) they read as 0, never from memory. */
static inline EL_TARGET_AVX2 void load_pairs(const int8_t* a, size_t len, __m256i* p01, __m256i* p23) {
  int32_t v = 0;
  if (len == QS8_SPGEMM_KB)
    memcpy(&v, a, QS8_SPGEMM_KB); /* a constant size: one load, not a call */
  else
    for (size_t i = 0; i < len; i++) v |= (int32_t)(uint8_t)a[i] << (8 * i);
  const __m128i x = _mm_cvtepi8_epi16(_mm_cvtsi32_si128(v));
  *p01 = _mm256_broadcastd_epi32(x);
  *p23 = _mm256_broadcastd_epi32(_mm_srli_si128(x, 4));
}

static inline EL_TARGET_AVX2 void store_row(int8_t* c, __m256i lo, __m256i hi, const el_requant8_avx2* q0,
                                            const el_requant8_avx2* q1, size_t nc) {
  const __m128i y0 = el_narrow8_avx2(el_requant8_avx2_apply(q0, lo));
  const __m128i y1 = el_narrow8_avx2(el_requant8_avx2_apply(q1, hi));
  if (nc == QS8_SPGEMM_NR) {
    _mm_storeu_si128((__m128i*)(void*)c, _mm_unpacklo_epi64(y0, y1));
    return;
  }
  int8_t tmp[QS8_SPGEMM_NR];
  _mm_storel_epi64((__m128i*)(void*)tmp, y0);
  _mm_storel_epi64((__m128i*)(void*)(tmp + 8), y1);
  memcpy(c, tmp, nc);
}

EL_TARGET_AVX2 void qs8_spgemm_4x16c4__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                            const void* packed, int8_t* c, size_t c_stride,
                                            const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  const uint8_t* at = (const uint8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR) {
    const qs8_spgemm_block blk = qs8_spgemm_read_block(at);
    at = blk.next;
    const size_t nc = n - n0 < QS8_SPGEMM_NR ? n - n0 : QS8_SPGEMM_NR;
    const el_requant8_avx2 q0 = el_requant8_avx2_load(p, n0, nc);
    const el_requant8_avx2 q1 = el_requant8_avx2_load(p, n0 + 8, nc > 8 ? nc - 8 : 0);
    const __m256i b0 = _mm256_loadu_si256((const __m256i*)(const void*)blk.bias);
    const __m256i b1 = _mm256_loadu_si256((const __m256i*)(const void*)(blk.bias + 8));
    for (size_t m0 = 0; m0 < m; m0 += MR) {
      const size_t rows = m - m0 < MR ? m - m0 : MR;
      const int8_t* a0 = a + m0 * a_stride;
      const int8_t* a1 = rows > 1 ? a0 + a_stride : a0;
      const int8_t* a2 = rows > 2 ? a1 + a_stride : a1;
      const int8_t* a3 = rows > 3 ? a2 + a_stride : a2;
      __m256i c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
      for (uint32_t g = 0; g < blk.groups; g++) {
        const size_t col = (size_t)blk.idx[g] * QS8_SPGEMM_KB;
        const size_t len = k - col < QS8_SPGEMM_KB ? k - col : QS8_SPGEMM_KB;
        const int8_t* wg = blk.w + (size_t)g * QS8_SPGEMM_GROUP_BYTES;
        const __m256i w0l = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)wg));
        const __m256i w0h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(wg + 16)));
        const __m256i w1l = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(wg + 32)));
        const __m256i w1h = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(wg + 48)));
        __m256i x01, x23;
        load_pairs(a0 + col, len, &x01, &x23);
        c00 = _mm256_add_epi32(c00, _mm256_add_epi32(_mm256_madd_epi16(w0l, x01), _mm256_madd_epi16(w1l, x23)));
        c01 = _mm256_add_epi32(c01, _mm256_add_epi32(_mm256_madd_epi16(w0h, x01), _mm256_madd_epi16(w1h, x23)));
        load_pairs(a1 + col, len, &x01, &x23);
        c10 = _mm256_add_epi32(c10, _mm256_add_epi32(_mm256_madd_epi16(w0l, x01), _mm256_madd_epi16(w1l, x23)));
        c11 = _mm256_add_epi32(c11, _mm256_add_epi32(_mm256_madd_epi16(w0h, x01), _mm256_madd_epi16(w1h, x23)));
        load_pairs(a2 + col, len, &x01, &x23);
        c20 = _mm256_add_epi32(c20, _mm256_add_epi32(_mm256_madd_epi16(w0l, x01), _mm256_madd_epi16(w1l, x23)));
        c21 = _mm256_add_epi32(c21, _mm256_add_epi32(_mm256_madd_epi16(w0h, x01), _mm256_madd_epi16(w1h, x23)));
        load_pairs(a3 + col, len, &x01, &x23);
        c30 = _mm256_add_epi32(c30, _mm256_add_epi32(_mm256_madd_epi16(w0l, x01), _mm256_madd_epi16(w1l, x23)));
        c31 = _mm256_add_epi32(c31, _mm256_add_epi32(_mm256_madd_epi16(w0h, x01), _mm256_madd_epi16(w1h, x23)));
      }
      int8_t* c0 = c + m0 * c_stride + n0;
      store_row(c0, c00, c01, &q0, &q1, nc);
      if (rows > 1) store_row(c0 + c_stride, c10, c11, &q0, &q1, nc);
      if (rows > 2) store_row(c0 + 2 * c_stride, c20, c21, &q0, &q1, nc);
      if (rows > 3) store_row(c0 + 3 * c_stride, c30, c31, &q0, &q1, nc);
    }
  }
}
#endif
