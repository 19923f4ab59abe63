/* qs8_gemm_4x16__neondot: int8 GEMM for ARMv8.2 with the dot-product extension (Raspberry Pi 5,
 * Cortex-A76). This file alone is compiled with -march=armv8.2-a+dotprod; dispatch runs it only when the
 * CPU reports EL_CPU_DOTPROD, so the ARMv8.0 path never meets an SDOT.
 *
 * Register tile: 4 rows of A x 16 output channels = 16 int32x4 accumulators that hold the outputs directly
 * (no cross-lane reduction). k is consumed 16 bytes per row at a time; each 4-byte group g of a row is
 * broadcast from its lane by SDOT (by element):
 *
 *     SDOT acc[r][q].4s, w[g][q].16b, a_r.4b[g]     4 channels x 4 k = 16 MACs per instruction
 *
 * Packed layout, per block of 16 output channels (n padded to 16 with zero weights and zero bias):
 *     int32 bias'[16]                        bias[n] - a_zero_point * sum_k w[n][k]
 *     for each 16-wide k block (k padded to 16 with zero weights):
 *         for g in 0..3, for q in 0..3: 16 bytes = channels 4q..4q+3, each w[ch][kb+4g .. kb+4g+3]
 *
 * Requantization is TFLite's (see requantize.h), vectorized: the results equal the scalar function's.
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_requantize_neon.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qs8_gemm_4x16__neondot.c must be compiled with -march=armv8.2-a+dotprod"
#endif

enum { MR = 4, NR = 16, KC = 16 };

static size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

size_t qs8_gemm_4x16__neondot_packed_size(size_t n, size_t k) {
  return round_up(n, NR) / NR * (NR * sizeof(int32_t) + NR * round_up(k, KC));
}

void qs8_gemm_4x16__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                 int32_t a_zero_point, void* packed) {
  const size_t kp = round_up(k, KC);
  int8_t* out = (int8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    for (size_t j = 0; j < NR; j++) {
      int32_t v = 0;
      if (n0 + j < n) {
        int32_t wsum = 0;
        for (size_t kk = 0; kk < k; kk++) wsum += w[(n0 + j) * k + kk];
        v = (bias != NULL ? bias[n0 + j] : 0) - a_zero_point * wsum;
      }
      b[j] = v;
    }
    memcpy(out, b, sizeof(b));
    out += sizeof(b);
    for (size_t kb = 0; kb < kp; kb += KC) {
      for (size_t g = 0; g < 4; g++) {
        for (size_t ch = 0; ch < NR; ch++) {
          for (size_t i = 0; i < 4; i++) {
            const size_t col = kb + 4 * g + i;
            *out++ = (n0 + ch < n && col < k) ? w[(n0 + ch) * k + col] : 0;
          }
        }
      }
    }
  }
}

/* The 4 channel quads of group G (4 k values) for all 4 rows. */
#define EL_DOT_GROUP(G, w)                                       \
  do {                                                           \
    for (int q = 0; q < 4; q++) {                                \
      const int8x16_t vb = vld1q_s8((w) + 64 * (G) + 16 * q);    \
      acc0[q] = vdotq_laneq_s32(acc0[q], vb, va0, G);            \
      acc1[q] = vdotq_laneq_s32(acc1[q], vb, va1, G);            \
      acc2[q] = vdotq_laneq_s32(acc2[q], vb, va2, G);            \
      acc3[q] = vdotq_laneq_s32(acc3[q], vb, va3, G);            \
    }                                                            \
  } while (0)

#define EL_DOT_STEP(w)   \
  do {                   \
    EL_DOT_GROUP(0, w);  \
    EL_DOT_GROUP(1, w);  \
    EL_DOT_GROUP(2, w);  \
    EL_DOT_GROUP(3, w);  \
  } while (0)

static inline void store_row(int8_t* c, size_t nc, int8x16_t v) {
  if (nc == NR) {
    vst1q_s8(c, v);
  } else {
    int8_t buf[NR];
    vst1q_s8(buf, v);
    memcpy(c, buf, nc);
  }
}

void qs8_gemm_4x16__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                            const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  const size_t kp = round_up(k, KC);
  const size_t k_main = k / KC * KC;
  const size_t k_tail = k - k_main;
  const size_t block_bytes = NR * sizeof(int32_t) + NR * kp;

  for (size_t m0 = 0; m0 < m; m0 += MR) {
    /* Rows past m alias the row before: duplicates are computed and stored to the same place. */
    const int8_t* a0 = a + m0 * a_stride;
    int8_t* c0 = c + m0 * c_stride;
    const int8_t* a1 = m0 + 1 < m ? a0 + a_stride : a0;
    int8_t* c1 = m0 + 1 < m ? c0 + c_stride : c0;
    const int8_t* a2 = m0 + 2 < m ? a1 + a_stride : a1;
    int8_t* c2 = m0 + 2 < m ? c1 + c_stride : c1;
    const int8_t* a3 = m0 + 3 < m ? a2 + a_stride : a2;
    int8_t* c3 = m0 + 3 < m ? c2 + c_stride : c2;
    int8_t tail[MR][KC];
    if (k_tail != 0) {
      memset(tail, 0, sizeof(tail));
      memcpy(tail[0], a0 + k_main, k_tail);
      memcpy(tail[1], a1 + k_main, k_tail);
      memcpy(tail[2], a2 + k_main, k_tail);
      memcpy(tail[3], a3 + k_main, k_tail);
    }

    const int8_t* blk = (const int8_t*)packed;
    for (size_t n0 = 0; n0 < n; n0 += NR, blk += block_bytes) {
      const int32_t* bias = (const int32_t*)(const void*)blk;
      int32x4_t acc0[4], acc1[4], acc2[4], acc3[4];
      for (int q = 0; q < 4; q++) {
        acc0[q] = vld1q_s32(bias + 4 * q);
        acc1[q] = acc0[q];
        acc2[q] = acc0[q];
        acc3[q] = acc0[q];
      }
      const int8_t* w = blk + NR * sizeof(int32_t);
      const int8_t *pa0 = a0, *pa1 = a1, *pa2 = a2, *pa3 = a3;
      for (size_t kk = 0; kk < k_main; kk += KC) {
#if defined(EL_MCA_MARKERS)
        __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_4x16__neondot" ::: "memory");
#endif
        const int8x16_t va0 = vld1q_s8(pa0);
        const int8x16_t va1 = vld1q_s8(pa1);
        const int8x16_t va2 = vld1q_s8(pa2);
        const int8x16_t va3 = vld1q_s8(pa3);
        pa0 += KC;
        pa1 += KC;
        pa2 += KC;
        pa3 += KC;
        EL_DOT_STEP(w);
        w += NR * KC;
#if defined(EL_MCA_MARKERS)
        __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
      }
      if (k_tail != 0) {
        const int8x16_t va0 = vld1q_s8(tail[0]);
        const int8x16_t va1 = vld1q_s8(tail[1]);
        const int8x16_t va2 = vld1q_s8(tail[2]);
        const int8x16_t va3 = vld1q_s8(tail[3]);
        EL_DOT_STEP(w);
      }

      /* Rebuilt per tile (3 DUPs) so the clamp constants do not hold registers through the k loop. */
      const el_requant_neon rq = el_requant_neon_init(p);
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      el_requant_channels lo, hi;
      if (nc == NR) {
        lo = el_requant_channels_load8(p, n0);
        hi = el_requant_channels_load8(p, n0 + 8);
      } else {
        lo = el_requant_channels_load_partial(p, n0, nc < 8 ? nc : 8);
        hi = el_requant_channels_load_partial(p, n0 + 8, nc > 8 ? nc - 8 : 0);
      }
      store_row(c3 + n0, nc, vcombine_s8(el_requant_neon_8(&rq, &lo, acc3[0], acc3[1]),
                                         el_requant_neon_8(&rq, &hi, acc3[2], acc3[3])));
      store_row(c2 + n0, nc, vcombine_s8(el_requant_neon_8(&rq, &lo, acc2[0], acc2[1]),
                                         el_requant_neon_8(&rq, &hi, acc2[2], acc2[3])));
      store_row(c1 + n0, nc, vcombine_s8(el_requant_neon_8(&rq, &lo, acc1[0], acc1[1]),
                                         el_requant_neon_8(&rq, &hi, acc1[2], acc1[3])));
      store_row(c0 + n0, nc, vcombine_s8(el_requant_neon_8(&rq, &lo, acc0[0], acc0[1]),
                                         el_requant_neon_8(&rq, &hi, acc0[2], acc0[3])));
    }
  }
}

#endif /* __aarch64__ */
