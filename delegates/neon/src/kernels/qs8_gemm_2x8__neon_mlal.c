/* qs8_gemm_2x8__neon_mlal: int8 GEMM for ARMv8.0 Advanced SIMD (Raspberry Pi 4, Cortex-A72). No SDOT.
 *
 * Register tile: 2 rows of A x 8 output channels, k consumed 16 bytes at a time ("c16"). For every
 * (row, channel) pair one int32x4 accumulator collects
 *
 *     SMULL  p.8h, b.8b,  a.8b       16-bit products of the low 8 k
 *     SMLAL2 p.8h, b.16b, a.16b      + products of the high 8 k (same 16-bit lanes)
 *     SADALP acc.4s, p.8h            pairwise-widen into the int32 accumulator
 *
 * i.e. 16 MACs per 3 instructions; the 16 accumulators are reduced across lanes once per tile (ADDP).
 * The 16-bit intermediate holds two products: |a * w| <= 128 * 127, so two fit in int16 as long as the
 * weights stay in [-127, 127] -- TFLite's int8 weight specification (symmetric, -128 excluded). A weight
 * matrix that does contain -128 (128 * 128 * 2 overflows int16) is flagged by `pack`, and `run` then widens
 * every product on its own (SMULL + SADALP, SMULL2 + SADALP: exact for any int8, 4 instead of 3
 * instructions per 16 MACs), so the variant is exact for all inputs.
 *
 * Packed layout: a 16-byte header (int32 flags: bit 0 = some weight is -128; then zeros), then per block of
 * 8 output channels (n padded to 8 with zero weights and zero bias):
 *     int32 bias'[8]                        bias[n] - a_zero_point * sum_k w[n][k]
 *     for each 16-wide k block (k padded to 16 with zero weights):
 *         int8 w[n0 + 0][kb .. kb+15], ..., w[n0 + 7][kb .. kb+15]      (8 x 16 bytes, read in order)
 *
 * Requantization is TFLite's (see requantize.h), vectorized: the results equal the scalar function's.
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_requantize_neon.h"

enum { MR = 2, NR = 8, KC = 16, HEADER = 16 };
enum { FLAG_HAS_MINUS_128 = 1 };

static size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

size_t qs8_gemm_2x8__neon_mlal_packed_size(size_t n, size_t k) {
  return HEADER + round_up(n, NR) / NR * (NR * sizeof(int32_t) + NR * round_up(k, KC));
}

void qs8_gemm_2x8__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                  int32_t a_zero_point, void* packed) {
  const size_t kp = round_up(k, KC);
  int32_t header[HEADER / sizeof(int32_t)] = {0};
  for (size_t i = 0; i < n * k; i++) {
    if (w[i] == INT8_MIN) header[0] |= FLAG_HAS_MINUS_128;
  }
  int8_t* out = (int8_t*)packed;
  memcpy(out, header, sizeof(header));
  out += sizeof(header);
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
      for (size_t j = 0; j < NR; j++) {
        for (size_t kk = 0; kk < KC; kk++) {
          const size_t col = kb + kk;
          *out++ = (n0 + j < n && col < k) ? w[(n0 + j) * k + col] : 0;
        }
      }
    }
  }
}

/* One 16-wide k step for both rows against the 8 channels at w (advances nothing; caller does).
 * `wide` is a compile-time constant after inlining: 0 = SMULL+SMLAL2+SADALP, 1 = every product widened. */
#define EL_MLAL_STEP(va0, va1, w, wide)                                                \
  do {                                                                                 \
    const int8x8_t va0l = vget_low_s8(va0), va1l = vget_low_s8(va1);                   \
    for (int j = 0; j < NR; j++) {                                                     \
      const int8x16_t vb = vld1q_s8((w) + 16 * j);                                     \
      int16x8_t p0 = vmull_s8(vget_low_s8(vb), va0l);                                  \
      int16x8_t p1 = vmull_s8(vget_low_s8(vb), va1l);                                  \
      if (wide) {                                                                      \
        acc0[j] = vpadalq_s16(acc0[j], p0);                                            \
        acc1[j] = vpadalq_s16(acc1[j], p1);                                            \
        p0 = vmull_high_s8(vb, va0);                                                   \
        p1 = vmull_high_s8(vb, va1);                                                   \
      } else {                                                                         \
        p0 = vmlal_high_s8(p0, vb, va0);                                               \
        p1 = vmlal_high_s8(p1, vb, va1);                                               \
      }                                                                                \
      acc0[j] = vpadalq_s16(acc0[j], p0);                                              \
      acc1[j] = vpadalq_s16(acc1[j], p1);                                              \
    }                                                                                  \
  } while (0)

static inline __attribute__((always_inline)) void gemm_2x8(size_t m, size_t n, size_t k, const int8_t* a,
                                                           size_t a_stride, const void* packed, int8_t* c,
                                                           size_t c_stride, const qs8_gemm_params* p,
                                                           const int wide) {
  const size_t kp = round_up(k, KC);
  const size_t k_main = k / KC * KC;
  const size_t k_tail = k - k_main;
  const size_t block_bytes = NR * sizeof(int32_t) + NR * kp;

  for (size_t m0 = 0; m0 < m; m0 += MR) {
    const int8_t* a0 = a + m0 * a_stride;
    int8_t* c0 = c + m0 * c_stride;
    /* A single last row aliases row 0: the duplicate is computed and stored to the same place. */
    const int8_t* a1 = m0 + 1 < m ? a0 + a_stride : a0;
    int8_t* c1 = m0 + 1 < m ? c0 + c_stride : c0;
    int8_t tail0[KC], tail1[KC];
    if (k_tail != 0) {
      memset(tail0, 0, sizeof(tail0));
      memset(tail1, 0, sizeof(tail1));
      memcpy(tail0, a0 + k_main, k_tail);
      memcpy(tail1, a1 + k_main, k_tail);
    }

    const int8_t* blk = (const int8_t*)packed + HEADER;
    for (size_t n0 = 0; n0 < n; n0 += NR, blk += block_bytes) {
      int32x4_t acc0[NR], acc1[NR];
      for (int j = 0; j < NR; j++) {
        acc0[j] = vdupq_n_s32(0);
        acc1[j] = vdupq_n_s32(0);
      }
      const int8_t* w = blk + NR * sizeof(int32_t);
      const int8_t* pa0 = a0;
      const int8_t* pa1 = a1;
      for (size_t kk = 0; kk < k_main; kk += KC) {
#if defined(EL_MCA_MARKERS)
        if (!wide) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_2x8__neon_mlal" ::: "memory");
#endif
        const int8x16_t va0 = vld1q_s8(pa0);
        const int8x16_t va1 = vld1q_s8(pa1);
        pa0 += KC;
        pa1 += KC;
        EL_MLAL_STEP(va0, va1, w, wide);
        w += NR * KC;
#if defined(EL_MCA_MARKERS)
        if (!wide) __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
      }
      if (k_tail != 0) {
        const int8x16_t va0 = vld1q_s8(tail0);
        const int8x16_t va1 = vld1q_s8(tail1);
        EL_MLAL_STEP(va0, va1, w, wide);
      }

      /* Reduce each accumulator's 4 lanes; gather 4 channels per vector. */
      const int32x4_t bias_lo = vld1q_s32((const int32_t*)(const void*)blk);
      const int32x4_t bias_hi = vld1q_s32((const int32_t*)(const void*)blk + 4);
      int32x4_t r0lo = vpaddq_s32(vpaddq_s32(acc0[0], acc0[1]), vpaddq_s32(acc0[2], acc0[3]));
      int32x4_t r0hi = vpaddq_s32(vpaddq_s32(acc0[4], acc0[5]), vpaddq_s32(acc0[6], acc0[7]));
      int32x4_t r1lo = vpaddq_s32(vpaddq_s32(acc1[0], acc1[1]), vpaddq_s32(acc1[2], acc1[3]));
      int32x4_t r1hi = vpaddq_s32(vpaddq_s32(acc1[4], acc1[5]), vpaddq_s32(acc1[6], acc1[7]));
      r0lo = vaddq_s32(r0lo, bias_lo);
      r0hi = vaddq_s32(r0hi, bias_hi);
      r1lo = vaddq_s32(r1lo, bias_lo);
      r1hi = vaddq_s32(r1hi, bias_hi);

      /* Rebuilt per tile (3 DUPs) so the clamp constants do not hold registers through the k loop. */
      const el_requant_neon rq = el_requant_neon_init(p);
      const size_t nc = n - n0 < NR ? n - n0 : NR;
      int8x8_t out0, out1;
      if (nc == NR) {
        const el_requant_channels ch = el_requant_channels_load8(p, n0);
        out0 = el_requant_neon_8(&rq, &ch, r0lo, r0hi);
        out1 = el_requant_neon_8(&rq, &ch, r1lo, r1hi);
        vst1_s8(c1 + n0, out1);
        vst1_s8(c0 + n0, out0);
      } else {
        const el_requant_channels ch = el_requant_channels_load_partial(p, n0, nc);
        out0 = el_requant_neon_8(&rq, &ch, r0lo, r0hi);
        out1 = el_requant_neon_8(&rq, &ch, r1lo, r1hi);
        int8_t buf0[NR], buf1[NR];
        vst1_s8(buf0, out0);
        vst1_s8(buf1, out1);
        memcpy(c1 + n0, buf1, nc);
        memcpy(c0 + n0, buf0, nc);
      }
    }
  }
}

void qs8_gemm_2x8__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                             const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  int32_t flags;
  memcpy(&flags, packed, sizeof(flags));
  if (flags & FLAG_HAS_MINUS_128) {
    gemm_2x8(m, n, k, a, a_stride, packed, c, c_stride, p, 1);
  } else {
    gemm_2x8(m, n, k, a, a_stride, packed, c, c_stride, p, 0);
  }
}

#endif /* __aarch64__ */
