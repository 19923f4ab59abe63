/* NOTE for GEMM variant authors (from the delegate core, found by testing against LiteRT 2.3's builtin
 * kernels): the builtin CONV_2D / FULLY_CONNECTED run in ruy, so `run` must requantize with
 * el_requantize_gemm() from ../requantize.h — SQRDMULH (rounding half up) then SRSHL by -shift (rounding
 * half up), with a left shift first when shift > 0 — NOT gemmlowp's double rounding (el_requantize()).
 * On NEON that is vqrdmulhq_s32 + vrshlq_s32, exactly. The interface below is unchanged.
 *
 * The int8 GEMM microkernel interface shared by the scalar reference and every NEON variant.
 *
 * CONV_2D (via im2col or 1x1 direct) and FULLY_CONNECTED reduce to:
 *
 *   acc[m][n] = bias[n] + sum_k (a[m][k] - a_zero_point) * w[n][k]      (weights symmetric: zero point 0)
 *   c[m][n]   = clamp(out_zero_point + requantize(acc[m][n], multiplier[n], shift[n]), act_min, act_max)
 *
 * with ruy's fixed-point requantization, el_requantize_gemm() in requantize.h (see the note above).
 * Weights are packed once at Prepare by the
 * variant's own `pack` into whatever layout its `run` wants; `pack` may fold -a_zero_point * sum_k w[n][k]
 * into the packed bias so `run` never subtracts the zero point in its inner loop. `run` only computes.
 *
 * Every variant has the same signature and the same preconditions (m, n, k >= 1; a_stride >= k;
 * c_stride >= n); one table (qs8_gemm_ukernels in qs8_gemm_registry.c) lists them all so tests, benchmarks
 * and run-time dispatch treat them alike.
 */
#ifndef EDGELIFT_QS8_GEMM_H
#define EDGELIFT_QS8_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "qs8_vbinary.h"

typedef struct qs8_gemm_params {
  const int32_t* multiplier; /* [n] per output channel (per-tensor models repeat one value) */
  const int32_t* shift;      /* [n] TFLite convention: > 0 shifts left, < 0 shifts right */
  int32_t out_zero_point;
  int32_t act_min; /* fused activation clamp, already in the quantized domain */
  int32_t act_max;
  /* The fused residual ADD (qs8_gemm_add.h), or NULL: when set, every output c[m][n] is the ADD of its conv
   * value (requantized and clamped as above) with residual[m * residual_stride + n], rounded as the builtin
   * ADD's elementwise vector body (the whole ADD must be one call of body: elements % 16 == 0; and its output
   * shift < 0, which the NEON epilogue's rounding assumes); add's "a" side is the conv value, "b" the residual. Variants that cannot (the sparse ones) are never given it. */
  const qs8_vbinary_params* add;
  const int8_t* residual;
  size_t residual_stride;
} qs8_gemm_params;

/* The bias every variant packs for one tile of `nr` output channels starting at `n0`: bias[c] minus
 * a_zero_point * sum_k w[c][k] (so `run` never subtracts the input zero point), 0 for tile padding past `n`. */
static inline void qs8_gemm_fold_bias(size_t n0, size_t nr, size_t n, size_t k, const int8_t* w,
                                      const int32_t* bias, int32_t a_zero_point, int32_t* out) {
  for (size_t j = 0; j < nr; j++) {
    const size_t c = n0 + j;
    int32_t wsum = 0;
    if (c < n) {
      for (size_t kk = 0; kk < k; kk++) wsum += w[c * k + kk];
    }
    out[j] = c < n ? (bias != NULL ? bias[c] : 0) - a_zero_point * wsum : 0;
  }
}

/* Bytes `pack` writes for an n x k weight matrix. */
typedef size_t (*qs8_gemm_packed_size_fn)(size_t n, size_t k);

/* w: [n][k] row-major int8; bias: [n] int32 or NULL. */
typedef void (*qs8_gemm_pack_fn)(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                 int32_t a_zero_point, void* packed);

/* a: [m][k] rows a_stride bytes apart; c: [m][n] rows c_stride bytes apart. */
typedef void (*qs8_gemm_run_fn)(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p);

/* CPU features a variant needs (bit set); dispatch picks the best variant the CPU has. */
enum {
  EL_CPU_NEON = 1u << 0,   /* ARMv8.0 Advanced SIMD (every aarch64 CPU; Pi 4 Cortex-A72) */
  EL_CPU_DOTPROD = 1u << 1, /* ARMv8.2 SDOT/UDOT (Pi 5 Cortex-A76) */
  EL_CPU_SSE41 = 1u << 2,   /* x86-64 SSE4.1 (PMOVSX, PMULDQ, PMINSD) */
  EL_CPU_AVX2 = 1u << 3     /* x86-64 AVX2 (256-bit integer ops, VPMADDWD, VPSRAVD), OS-enabled */
};

/* The features a `kernels=` level lets variants use on a CPU with `features`: all of them for NULL / "auto",
 * none for "scalar", the level's own (and those below it) otherwise; forcing a level the CPU lacks gives 0
 * here and a NULL GEMM choice (the delegate refuses it at creation). */
unsigned el_kernels_allowed(unsigned features, const char* forced);

typedef struct qs8_gemm_ukernel {
  const char* name; /* <dtype>_<op>_<tile>__<arch>, e.g. "qs8_gemm_4x8__neon_mlal" */
  unsigned required_features;
  qs8_gemm_packed_size_fn packed_size;
  qs8_gemm_pack_fn pack;
  qs8_gemm_run_fn run;
} qs8_gemm_ukernel;

/* All variants compiled for this architecture, best first; terminated by an entry with name == NULL. */
extern const qs8_gemm_ukernel qs8_gemm_ukernels[];

/* The best variant for `features`, or the one named `forced` ("scalar", "neon", "dot", "sse41", "avx2"): the
 * best variant that needs exactly that level; NULL if none fits. */
const qs8_gemm_ukernel* qs8_gemm_select(unsigned features, const char* forced);

/* Whether `u` is one of the variants the level `forced` (as above; NULL / "auto": any) lets a CPU with `features`
 * run. The per-layer choice (qs8_gemm_cost.h) picks among these. */
int qs8_gemm_level_allows(const qs8_gemm_ukernel* u, unsigned features, const char* forced);

/* Features of the CPU we run on (EL_CPU_* bits). */
unsigned el_cpu_features(void);

#endif
