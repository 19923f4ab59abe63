/* The one list of block-sparse qs8 GEMM variants, best first, their selection and the block density they are
 * chosen by (see qs8_spgemm.h; the per-node rule is in ops/kernel_choice.c).
 *
 * break_even_density - break_even_k / k: the 16x4-block density at which the variant costs what the dense variant
 * of the same CPU costs, measured with the Pi cost meter (estimated Cortex-A72 / A76 cycles of one-op pruned
 * models, benchmarks/sparse_bench.py --calibrate); a node runs sparse below it. Dense cost per output grows with
 * k; sparse cost is a fixed part (requantization, the A tile copy, stores) plus a part that grows with
 * density x k, hence the line. On x86-64 (no meter) the AVX2 variant's line is fitted the same way to wall
 * time (sparse_bench.py --calibrate --boards x86). The portable variant is never chosen automatically: it is
 * the twin the others are checked beside (sparse=always on a CPU without AVX2, 4x slower than dense there). */
#include "qs8_spgemm.h"

size_t qs8_spgemm_1x16c4__scalar_packed_size(size_t n, size_t k);
void qs8_spgemm_1x16c4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                    void* packed);
void qs8_spgemm_1x16c4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                   const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p);
#if defined(__aarch64__)
size_t qs8_spgemm_4x16c4__neondot_packed_size(size_t n, size_t k);
void qs8_spgemm_4x16c4__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                     void* packed);
void qs8_spgemm_4x16c4__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p);
size_t qs8_spgemm_4x16c4__neon_mlal_packed_size(size_t n, size_t k);
void qs8_spgemm_4x16c4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias,
                                       int32_t a_zero_point, void* packed);
void qs8_spgemm_4x16c4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride,
                                  const void* packed, int8_t* c, size_t c_stride, const qs8_gemm_params* p);
#endif
#if defined(__x86_64__)
size_t qs8_spgemm_4x16c4__avx2_packed_size(size_t n, size_t k);
void qs8_spgemm_4x16c4__avx2_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                  void* packed);
void qs8_spgemm_4x16c4__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                             int8_t* c, size_t c_stride, const qs8_gemm_params* p);
#endif

/* Calibration (see the comment at the top; benchmarks/sparse_bench.py --calibrate): per variant, density =
 * D - K / k fitted to the meter's estimated cycles of one 1x1 CONV_2D (8x8 pixels, 128 output channels) dense
 * and sparse (16x4 density 0.25 and 0.5) at k = 64 and 256. Measured break-even densities: Pi 4 0.968 (k = 64),
 * 0.985 (k = 256), line D = 0.990, K = 1.40; Pi 5 (qs8_spgemm_4x16c4__neondot, its group loop unrolled four
 * times) 0.956, 0.978, D = 0.986, K = 1.93. Rounded toward dense, with K kept positive so layers shallower than
 * the fit's k = 64 need a lower density: */
#define NEON_DENSITY 0.95f
#define NEON_K 2.0f
#define DOT_DENSITY 0.95f
#define DOT_K 2.0f
/* x86-64, AVX2 vs qs8_gemm_3x8c8__avx2, wall time medians of two runs on a loaded 2-core machine: break-even
 * 0.68 / 0.83 (k = 64), 0.70 / 0.73 (k = 256); sparse at density 0.25 0.63x (k = 64), 0.49-0.51x (k = 256).
 * Rounded toward dense, flat in k: */
#define AVX2_DENSITY 0.60f
#define AVX2_K 0.0f

const qs8_spgemm_ukernel qs8_spgemm_ukernels[] = {
#if defined(__aarch64__)
    {{"qs8_spgemm_4x16c4__neondot", EL_CPU_NEON | EL_CPU_DOTPROD, qs8_spgemm_4x16c4__neondot_packed_size,
      qs8_spgemm_4x16c4__neondot_pack, qs8_spgemm_4x16c4__neondot},
     DOT_DENSITY, DOT_K, QS8_SPGEMM_NEON_MAX_K, 4, 0, QS8_SPGEMM_C4},
    {{"qs8_spgemm_4x16c4__neon_mlal", EL_CPU_NEON, qs8_spgemm_4x16c4__neon_mlal_packed_size,
      qs8_spgemm_4x16c4__neon_mlal_pack, qs8_spgemm_4x16c4__neon_mlal},
     NEON_DENSITY, NEON_K, QS8_SPGEMM_NEON_MAX_K, 4, 1, QS8_SPGEMM_K2},
#endif
#if defined(__x86_64__)
    {{"qs8_spgemm_4x16c4__avx2", EL_CPU_SSE41 | EL_CPU_AVX2, qs8_spgemm_4x16c4__avx2_packed_size,
      qs8_spgemm_4x16c4__avx2_pack, qs8_spgemm_4x16c4__avx2},
     AVX2_DENSITY, AVX2_K, (size_t)65535 * QS8_SPGEMM_KB, 4, 0, QS8_SPGEMM_K2},
#endif
    {{"qs8_spgemm_1x16c4__scalar", 0, qs8_spgemm_1x16c4__scalar_packed_size, qs8_spgemm_1x16c4__scalar_pack,
      qs8_spgemm_1x16c4__scalar_run},
     0.0f, 0.0f, (size_t)65535 * QS8_SPGEMM_KB, 1, 0, QS8_SPGEMM_C4},
    {{NULL, 0, NULL, NULL, NULL}, 0.0f, 0.0f, 0, 0, 0, 0},
};

/* The same levels as the dense variants' (qs8_gemm_level_allows), best first. */
const qs8_spgemm_ukernel* qs8_spgemm_select(unsigned features, const char* forced) {
  for (const qs8_spgemm_ukernel* u = qs8_spgemm_ukernels; u->gemm.name != NULL; u++)
    if (qs8_gemm_level_allows(&u->gemm, features, forced)) return u;
  return NULL;
}

double qs8_spgemm_block_density(size_t n, size_t k, const int8_t* w) {
  const size_t kgs = qs8_spgemm_groups(k), blocks = (n + QS8_SPGEMM_NR - 1) / QS8_SPGEMM_NR;
  if (blocks == 0 || kgs == 0) return 1.0;
  size_t used = 0;
  for (size_t n0 = 0; n0 < n; n0 += QS8_SPGEMM_NR)
    for (size_t kg = 0; kg < kgs; kg++) used += (size_t)qs8_spgemm_group_used(w, n, k, n0, kg);
  return (double)used / (double)(blocks * kgs);
}
