/* qs8_gemm_2x8__neon_mlal: int8 GEMM for ARMv8.0 Advanced SIMD (Raspberry Pi 4, Cortex-A72). No SDOT.
 *
 * Register tile: 2 rows of A x 8 output channels, k consumed 16 bytes at a time ("c16"). For every
 * (row, channel) pair one int32x4 accumulator collects
 *
 *     SMULL  p.8h, b.8b,  a.8b       16-bit products of the low 8 k
 *     SMLAL2 p.8h, b.16b, a.16b      + products of the high 8 k (same 16-bit lanes)
 *     SADALP acc.4s, p.8h            pairwise-widen into the int32 accumulator
 *
 * i.e. 16 MACs per 3 instructions; the 16 accumulators are reduced across lanes once per tile (ADDP). An
 * odd last row runs with a 1 x 8 tile.
 * The 16-bit intermediate holds two products: |a * w| <= 128 * 127, so two fit in int16 as long as the
 * weights stay in [-127, 127] -- TFLite's int8 weight specification (symmetric, -128 excluded). A weight
 * matrix that does contain -128 (128 * 128 * 2 overflows int16) is flagged by `pack`, and `run` then widens
 * every product on its own (SMULL + SADALP, SMULL2 + SADALP: exact for any int8, 4 instead of 3
 * instructions per 16 MACs), so the variant is exact for all inputs.
 *
 * Packed layout: a 16-byte header (int32 flags: bit 0 = some weight is -128; then zeros), then per block of
 * 8 output channels (n padded to 8 with zero weights and zero bias):
 *     int32 bias'[8]                        bias[n] - a_zero_point * sum_k w[n][k]
 *     for each 16-wide k block:
 *         int8 w[n0 + 0][kb .. kb+15], ..., w[n0 + 7][kb .. kb+15]      (8 x 16 bytes, read in order)
 *     a last block of k % 16 columns, zero-padded to 8 wide (k % 16 <= 8: SMULL + SADALP on 8 bytes) or to
 *     16 wide (k % 16 > 8), so a k of 8, 24 or 40 wastes no multiplies
 *
 * Requantization is ruy's, as TFLite's CONV_2D / FULLY_CONNECTED do it (el_requantize_gemm in requantize.h),
 * vectorized in qs8_requantize_neon.h: the results equal the scalar function's.
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_gemm_add_neon.h"
#include "qs8_requantize_neon.h"

enum { MR = 2, NR = 8, KC = 16, HEADER = 16 };
enum { FLAG_HAS_MINUS_128 = 1 };

static size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

/* Packed weight bytes per channel: whole 16-blocks, then the remainder padded to 8 or 16. */
static size_t k_packed(size_t k) {
  const size_t rem = k % KC;
  return k - rem + (rem == 0 ? 0 : rem <= KC / 2 ? KC / 2 : KC);
}

size_t qs8_gemm_2x8__neon_mlal_packed_size(size_t n, size_t k) {
  return HEADER + round_up(n, NR) / NR * (NR * sizeof(int32_t) + NR * k_packed(k));
}

void qs8_gemm_2x8__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                  int32_t a_zero_point, void* packed) {
  const size_t kp = k_packed(k);
  int32_t header[HEADER / sizeof(int32_t)] = {0};
  for (size_t i = 0; i < n * k; i++) {
    if (w[i] == INT8_MIN) header[0] |= FLAG_HAS_MINUS_128;
  }
  int8_t* out = (int8_t*)packed;
  memcpy(out, header, sizeof(header));
  out += sizeof(header);
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    qs8_gemm_fold_bias(n0, NR, n, k, w, bias, a_zero_point, b);
    memcpy(out, b, sizeof(b));
    out += sizeof(b);
    for (size_t kb = 0; kb < kp; kb += KC) {
      const size_t width = kp - kb < KC ? kp - kb : KC;
      for (size_t j = 0; j < NR; j++) {
        for (size_t kk = 0; kk < width; kk++) {
          const size_t col = kb + kk;
          *out++ = (n0 + j < n && col < k) ? w[(n0 + j) * k + col] : 0;
        }
      }
    }
  }
}

/* The fused residual ADD (qs8_gemm_add_neon.h) of nc (<= 8) outputs, out of line: inlined, its constants pushed
 * the k loop's registers onto the stack. */
static __attribute__((noinline)) int8x8_t fused_add(const el_gemm_add_neon* q, const int8_t* res, size_t nc,
                                                    int8x8_t out) {
  return el_gemm_add_neon8(q, out, nc == NR ? vld1_s8(res) : vget_low_s8(el_gemm_add_neon_load_partial(res, nc)));
}

/* One 16-wide k step of the first `rows` rows against the 8 channels at w (advances nothing; caller does).
 * `rows` and `wide` are constants after inlining: wide 0 = SMULL+SMLAL2+SADALP, 1 = every product widened. */
#define EL_MLAL_STEP(va, w, rows, wide)                                                \
  do {                                                                                 \
    for (int j = 0; j < NR; j++) {                                                     \
      const int8x16_t vb = vld1q_s8((w) + 16 * j);                                     \
      int16x8_t prod[MR];                                                              \
      for (int r = 0; r < (rows); r++) prod[r] = vmull_s8(vget_low_s8(vb), vget_low_s8(va[r])); \
      if (wide) {                                                                      \
        for (int r = 0; r < (rows); r++) {                                             \
          acc[r][j] = vpadalq_s16(acc[r][j], prod[r]);                                 \
          prod[r] = vmull_high_s8(vb, va[r]);                                          \
        }                                                                              \
      } else {                                                                         \
        for (int r = 0; r < (rows); r++) prod[r] = vmlal_high_s8(prod[r], vb, va[r]);  \
      }                                                                                \
      for (int r = 0; r < (rows); r++) acc[r][j] = vpadalq_s16(acc[r][j], prod[r]);    \
    }                                                                                  \
  } while (0)

/* The last 8 (or fewer, zero-padded) k: one widening multiply per product, exact for any int8. */
#define EL_MLAL_STEP8(va, w, rows)                                                     \
  do {                                                                                 \
    for (int j = 0; j < NR; j++) {                                                     \
      const int8x8_t vb = vld1_s8((w) + 8 * j);                                        \
      for (int r = 0; r < (rows); r++) {                                               \
        acc[r][j] = vpadalq_s16(acc[r][j], vmull_s8(vb, vget_low_s8(va[r])));          \
      }                                                                                \
    }                                                                                  \
  } while (0)

/* `rows` (MR, or 1 for a row left over) rows of A against every 8-channel block; inlined with constant
 * `rows` and `wide` so each instance keeps exactly rows x 8 accumulators in registers. */
static inline __attribute__((always_inline)) void mlal_rows(const int rows, const int wide, size_t n, size_t k,
                                                            const int8_t* a, size_t a_stride, const void* packed,
                                                            int8_t* c, size_t c_stride, const qs8_gemm_params* p,
                                                            const int8_t* res, const el_gemm_add_neon* aq) {
  const size_t kp = k_packed(k);
  const size_t k_main = k / KC * KC;
  const size_t k_tail = k - k_main;
  const size_t block_bytes = NR * sizeof(int32_t) + NR * kp;
  int8_t tail[MR][KC];
  if (k_tail != 0) {
    memset(tail, 0, sizeof(tail));
    for (int r = 0; r < rows; r++) memcpy(tail[r], a + (size_t)r * a_stride + k_main, k_tail);
  }

  const int8_t* blk = (const int8_t*)packed + HEADER;
  for (size_t n0 = 0; n0 < n; n0 += NR, blk += block_bytes) {
    int32x4_t acc[MR][NR];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < NR; j++) acc[r][j] = vdupq_n_s32(0);
    }
    const int8_t* w = blk + NR * sizeof(int32_t);
    const int8_t* pa = a;
    for (size_t kk = 0; kk < k_main; kk += KC) {
#if defined(EL_MCA_MARKERS) /* benchmarks/neon_mca.py: the 2-row loop and the 1-row (batch-1 FC) loop */
      if (rows == MR && !wide) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_2x8__neon_mlal" ::: "memory");
      if (rows == 1 && !wide) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_2x8__neon_mlal.1row" ::: "memory");
#endif
      int8x16_t va[MR];
      for (int r = 0; r < rows; r++) va[r] = vld1q_s8(pa + (size_t)r * a_stride);
      pa += KC;
      EL_MLAL_STEP(va, w, rows, wide);
      w += NR * KC;
#if defined(EL_MCA_MARKERS)
      if (!wide) __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
    }
    if (k_tail != 0) {
      int8x16_t va[MR];
      for (int r = 0; r < rows; r++) va[r] = vld1q_s8(tail[r]);
      if (kp - k_main == KC) {
        EL_MLAL_STEP(va, w, rows, wide);
      } else {
        EL_MLAL_STEP8(va, w, rows);
      }
    }

    /* Rebuilt per tile (3 DUPs) so the clamp constants do not hold registers through the k loop. */
    const el_requant_neon rq = el_requant_neon_init(p);
    const int32x4_t bias_lo = vld1q_s32((const int32_t*)(const void*)blk);
    const int32x4_t bias_hi = vld1q_s32((const int32_t*)(const void*)blk + 4);
    const size_t nc = n - n0 < NR ? n - n0 : NR;
    const el_requant_channels ch =
        nc == NR ? el_requant_channels_load8(p, n0) : el_requant_channels_load_partial(p, n0, nc);
    for (int r = 0; r < rows; r++) {
      /* Reduce each accumulator's 4 lanes; gather 4 channels per vector. */
      const int32x4_t lo = vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), vpaddq_s32(acc[r][2], acc[r][3]));
      const int32x4_t hi = vpaddq_s32(vpaddq_s32(acc[r][4], acc[r][5]), vpaddq_s32(acc[r][6], acc[r][7]));
      int8x8_t out = el_requant_neon_8(&rq, &ch, vaddq_s32(lo, bias_lo), vaddq_s32(hi, bias_hi));
      int8_t* cr = c + (size_t)r * c_stride + n0;
      if (res != NULL) out = fused_add(aq, res + (size_t)r * p->residual_stride + n0, nc, out);
      if (nc == NR) {
        vst1_s8(cr, out);
      } else {
        int8_t buf[NR];
        vst1_s8(buf, out);
        memcpy(cr, buf, nc);
      }
    }
  }
}

static inline __attribute__((always_inline)) void mlal_all(const int wide, size_t m, size_t n, size_t k,
                                                           const int8_t* a, size_t a_stride, const void* packed,
                                                           int8_t* c, size_t c_stride, const qs8_gemm_params* p,
                                                           const el_gemm_add_neon* aq) {
  size_t m0 = 0;
  for (; m0 + MR <= m; m0 += MR) {
    mlal_rows(MR, wide, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p,
              p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL, aq);
  }
  for (; m0 < m; m0++) {
    mlal_rows(1, wide, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p,
              p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL, aq);
  }
}

void qs8_gemm_2x8__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                             const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  int32_t flags;
  memcpy(&flags, packed, sizeof(flags));
  el_gemm_add_neon add;
  const el_gemm_add_neon* aq = p->add != NULL ? (add = el_gemm_add_neon_init(p->add), &add) : NULL;
  if (flags & FLAG_HAS_MINUS_128) {
    mlal_all(1, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
  } else {
    mlal_all(0, m, n, k, a, a_stride, packed, c, c_stride, p, aq);
  }
}

#endif /* __aarch64__ */
