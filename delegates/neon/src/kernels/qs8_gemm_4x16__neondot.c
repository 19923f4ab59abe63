/* qs8_gemm_4x16__neondot: int8 GEMM for ARMv8.2 with the dot-product extension (Raspberry Pi 5,
 * Cortex-A76). This file alone is compiled with -march=armv8.2-a+dotprod; dispatch runs it only when the
 * CPU reports EL_CPU_DOTPROD, so the ARMv8.0 path never meets an SDOT.
 *
 * Register tile: 4 rows of A x 16 output channels = 16 int32x4 accumulators that hold the outputs directly
 * (no cross-lane reduction); rows left over (m % 4) run one at a time with a 1 x 16 tile. k is consumed
 * 16 bytes per row at a time; each 4-byte group g of a row is broadcast from its lane by SDOT (by element):
 *
 *     SDOT acc[r][q].4s, w[g][q].16b, a_r.4b[g]     4 channels x 4 k = 16 MACs per instruction
 *
 * Packed layout, per block of 16 output channels (n padded to 16 with zero weights and zero bias):
 *     int32 bias'[16]                        bias[n] - a_zero_point * sum_k w[n][k]
 *     for each 16-wide k block (the last one cut after ceil(k % 16 / 4) groups; k padded to 4 with zeros):
 *         for g in 0..3, for q in 0..3: 16 bytes = channels 4q..4q+3, each w[ch][kb+4g .. kb+4g+3]
 *
 * Requantization is ruy's, as TFLite's CONV_2D / FULLY_CONNECTED do it (el_requantize_gemm in requantize.h),
 * vectorized in qs8_requantize_neon.h (el_requant16_row, the left shift only when a multiplier needs one): the
 * results equal the scalar function's.
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "qs8_gemm.h"
#include "qs8_gemm_add_neon.h"
#include "qs8_requantize_neon.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "qs8_gemm_4x16__neondot.c must be compiled with -march=armv8.2-a+dotprod"
#endif

enum { MR = 4, NR = 16, KC = 16 };

static size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

size_t qs8_gemm_4x16__neondot_packed_size(size_t n, size_t k) {
  return round_up(n, NR) / NR * (NR * sizeof(int32_t) + NR * round_up(k, 4));
}

void qs8_gemm_4x16__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                 int32_t a_zero_point, void* packed) {
  const size_t kp = round_up(k, 4);
  int8_t* out = (int8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR) {
    int32_t b[NR];
    qs8_gemm_fold_bias(n0, NR, n, k, w, bias, a_zero_point, b);
    memcpy(out, b, sizeof(b));
    out += sizeof(b);
    for (size_t kb = 0; kb < kp; kb += KC) {
      for (size_t g = 0; g < 4 && kb + 4 * g < kp; g++) {
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

/* The 4 channel quads of group G (4 k values) for the first `rows` rows (a constant after inlining).
 * A single row borrows the other rows' accumulators, one set per group, so no accumulator takes two SDOTs
 * in a row per k step: the 1-row loop is bound by SDOT throughput, not by its latency. */
#define EL_DOT_GROUP(G, w)                                       \
  do {                                                           \
    for (int q = 0; q < 4; q++) {                                \
      const int8x16_t vb = vld1q_s8((w) + 64 * (G) + 16 * q);    \
      if (rows == 1) {                                           \
        acc[G][q] = vdotq_laneq_s32(acc[G][q], vb, va[0], G);    \
      } else {                                                   \
        for (int r = 0; r < rows; r++) {                         \
          acc[r][q] = vdotq_laneq_s32(acc[r][q], vb, va[r], G);  \
        }                                                        \
      }                                                          \
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

/* `rows` (MR, or 1 for the rows left over) rows of A against every 16-channel block. Inlined with a
 * constant `rows`, so each instance keeps exactly rows x 4 accumulators in registers: a single row (a
 * FULLY_CONNECTED with batch 1, the last output pixels of a conv) does not pay for four. */
static inline __attribute__((always_inline)) void dot_rows(const int rows, const int left, size_t n, size_t k,
                                                           const int8_t* a, size_t a_stride, const void* packed,
                                                           int8_t* c, size_t c_stride, const qs8_gemm_params* p,
                                                           const int8_t* res, const el_gemm_add_neon* aq) {
  const size_t kp = round_up(k, 4);
  const size_t k_main = k / KC * KC;
  const size_t k_tail = k - k_main;
  const size_t tail_groups = (k_tail + 3) / 4;
  const size_t block_bytes = NR * sizeof(int32_t) + NR * kp;
  int8_t tail[MR][KC];
  if (k_tail != 0) {
    memset(tail, 0, sizeof(tail));
    for (int r = 0; r < rows; r++) memcpy(tail[r], a + (size_t)r * a_stride + k_main, k_tail);
  }

  const int8_t* blk = (const int8_t*)packed;
  for (size_t n0 = 0; n0 < n; n0 += NR, blk += block_bytes) {
    const int32_t* bias = (const int32_t*)(const void*)blk;
    int32x4_t acc[MR][4];
    for (int q = 0; q < 4; q++) {
      const int32x4_t b = vld1q_s32(bias + 4 * q);
      /* rows is MR or 1; a single row starts the borrowed per-group accumulators at 0. */
      for (int r = 0; r < MR; r++) acc[r][q] = (r == 0 || rows > 1) ? b : vdupq_n_s32(0);
    }
    const int8_t* w = blk + NR * sizeof(int32_t);
    const int8_t* pa = a;
    for (size_t kk = 0; kk < k_main; kk += KC) {
#if defined(EL_MCA_MARKERS) /* benchmarks/neon_mca.py: the 4-row loop and the 1-row (batch-1 FC) loop */
      if (rows == MR) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_4x16__neondot" ::: "memory");
      if (rows == 1) __asm__ volatile("# LLVM-MCA-BEGIN qs8_gemm_4x16__neondot.1row" ::: "memory");
#endif
      int8x16_t va[MR];
      for (int r = 0; r < rows; r++) va[r] = vld1q_s8(pa + (size_t)r * a_stride);
      pa += KC;
      EL_DOT_STEP(w);
      w += NR * KC;
#if defined(EL_MCA_MARKERS)
      __asm__ volatile("# LLVM-MCA-END" ::: "memory");
#endif
    }
    if (k_tail != 0) {
      int8x16_t va[MR];
      for (int r = 0; r < rows; r++) va[r] = vld1q_s8(tail[r]);
      EL_DOT_GROUP(0, w);
      if (tail_groups > 1) EL_DOT_GROUP(1, w);
      if (tail_groups > 2) EL_DOT_GROUP(2, w);
      if (tail_groups > 3) EL_DOT_GROUP(3, w);
    }

    if (rows == 1) {
      for (int q = 0; q < 4; q++) {
        acc[0][q] = vaddq_s32(vaddq_s32(acc[0][q], acc[1][q]), vaddq_s32(acc[2][q], acc[3][q]));
      }
    }

    /* Rebuilt per tile (3 DUPs) so the clamp constants do not hold registers through the k loop; one branch
     * per block, not per row, for the stores, so the rows' requantization is one straight run of code. */
    const int16x8_t out_zp = vdupq_n_s16((int16_t)p->out_zero_point);
    const int8x16_t act_min = vdupq_n_s8((int8_t)p->act_min), act_max = vdupq_n_s8((int8_t)p->act_max);
    const size_t nc = n - n0 < NR ? n - n0 : NR;
    const el_requant16 q = el_requant16_load(p, n0, nc);
    int8x16_t out[MR];
    for (int r = 0; r < rows; r++) out[r] = el_requant16_row(left, &q, acc[r], out_zp, act_min, act_max);
    if (res != NULL) el_gemm_add_neon_rows(aq, p->residual_stride, rows, res + n0, nc, out); /* fused ADD */
    if (nc == NR) {
      for (int r = 0; r < rows; r++) vst1q_s8(c + (size_t)r * c_stride + n0, out[r]);
    } else {
      for (int r = 0; r < rows; r++) store_row(c + (size_t)r * c_stride + n0, nc, out[r]);
    }
  }
}

/* The common case (4 rows, no left shift) in a function of its own that starts a page: its k loop never
 * straddles a 4 KiB boundary, where the Pi cost meter's qemu cuts blocks (see qs8_gemm_4x16c4__neon_mlal.c). */
static __attribute__((noinline, aligned(4096))) void qs8_gemm_4x16__neondot_4rows(
    size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p) {
  dot_rows(MR, 0, n, k, a, a_stride, packed, c, c_stride, p, NULL, NULL); /* (no fused-ADD test per block) */
}

/* The same with the fused residual ADD (qs8_gemm_add_neon.h) in its epilogue. */
static __attribute__((noinline, aligned(4096))) void qs8_gemm_4x16__neondot_4rows_add(
    size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed, int8_t* c, size_t c_stride,
    const qs8_gemm_params* p, const int8_t* res, const el_gemm_add_neon* aq) {
  dot_rows(MR, 0, n, k, a, a_stride, packed, c, c_stride, p, res, aq);
}

void qs8_gemm_4x16__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                            const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p) {
  if (m == 0 || n == 0 || k == 0 || a_stride < k || c_stride < n) return;
  const int left = el_any_left_shift(p, n);
  el_gemm_add_neon add;
  const el_gemm_add_neon* aq = p->add != NULL ? (add = el_gemm_add_neon_init(p->add), &add) : NULL;
  size_t m0 = 0;
  for (; m0 + MR <= m; m0 += MR) {
    const int8_t* res = p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL;
    if (left) dot_rows(MR, 1, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p, res, aq);
    else if (res != NULL)
      qs8_gemm_4x16__neondot_4rows_add(n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p, res,
                                       aq);
    else qs8_gemm_4x16__neondot_4rows(n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p);
  }
  for (; m0 < m; m0++) {
    const int8_t* res = p->residual != NULL ? p->residual + m0 * p->residual_stride : NULL;
    if (left) dot_rows(1, 1, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p, res, aq);
    else dot_rows(1, 0, n, k, a + m0 * a_stride, a_stride, packed, c + m0 * c_stride, c_stride, p, res, aq);
  }
}

#endif /* __aarch64__ */
