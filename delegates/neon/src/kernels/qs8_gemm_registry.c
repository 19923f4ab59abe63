/* The one list of qs8 GEMM variants, best first, and run-time dispatch (see qs8_gemm.h; the `kernels=` levels it
 * selects by are in qs8_gemm_level.c). */
#include "qs8_gemm.h"

size_t qs8_gemm_2x4__scalar_packed_size(size_t n, size_t k);
void qs8_gemm_2x4__scalar_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                               void* packed);
void qs8_gemm_2x4__scalar_run(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                              int8_t* c, size_t c_stride, const qs8_gemm_params* p);

/* ---- SIMD variants: declarations (SIMD engineer's section, aarch64 only) ---- */
#if defined(__aarch64__)
size_t qs8_gemm_4x16__neondot_packed_size(size_t n, size_t k);
void qs8_gemm_4x16__neondot_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                 void* packed);
void qs8_gemm_4x16__neondot(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                            int8_t* c, size_t c_stride, const qs8_gemm_params* p);
size_t qs8_gemm_4x16c4__neon_mlal_packed_size(size_t n, size_t k);
void qs8_gemm_4x16c4__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                     void* packed);
void qs8_gemm_4x16c4__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                                int8_t* c, size_t c_stride, const qs8_gemm_params* p);
size_t qs8_gemm_2x8__neon_mlal_packed_size(size_t n, size_t k);
void qs8_gemm_2x8__neon_mlal_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                                  void* packed);
void qs8_gemm_2x8__neon_mlal(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                             int8_t* c, size_t c_stride, const qs8_gemm_params* p);
#endif
/* ---- end of SIMD declarations ---- */
#if defined(__x86_64__)
size_t qs8_gemm_3x8c8__avx2_packed_size(size_t n, size_t k);
void qs8_gemm_3x8c8__avx2_pack(size_t n, size_t k, const int8_t* w, const int32_t* bias, int32_t a_zero_point,
                               void* packed);
void qs8_gemm_3x8c8__avx2(size_t m, size_t n, size_t k, const int8_t* a, size_t a_stride, const void* packed,
                          int8_t* c, size_t c_stride, const qs8_gemm_params* p);
#endif

const qs8_gemm_ukernel qs8_gemm_ukernels[] = {
#if defined(__aarch64__)
/* ---- SIMD variants: table entries, best first (SIMD engineer's section) ---- */
    {"qs8_gemm_4x16__neondot", EL_CPU_NEON | EL_CPU_DOTPROD, qs8_gemm_4x16__neondot_packed_size,
     qs8_gemm_4x16__neondot_pack, qs8_gemm_4x16__neondot},
    /* Both NEON variants: two products per int16 lane for weights in [-127, 127] (TFLite's int8 weight
     * spec), every product widened alone when pack finds a -128 (see the files). */
    {"qs8_gemm_4x16c4__neon_mlal", EL_CPU_NEON, qs8_gemm_4x16c4__neon_mlal_packed_size,
     qs8_gemm_4x16c4__neon_mlal_pack, qs8_gemm_4x16c4__neon_mlal},
    {"qs8_gemm_2x8__neon_mlal", EL_CPU_NEON, qs8_gemm_2x8__neon_mlal_packed_size, qs8_gemm_2x8__neon_mlal_pack,
     qs8_gemm_2x8__neon_mlal},
/* ---- end of SIMD entries ---- */
#endif
#if defined(__x86_64__)
    {"qs8_gemm_3x8c8__avx2", EL_CPU_SSE41 | EL_CPU_AVX2, qs8_gemm_3x8c8__avx2_packed_size, qs8_gemm_3x8c8__avx2_pack,
     qs8_gemm_3x8c8__avx2},
#endif
    {"qs8_gemm_2x4__scalar", 0, qs8_gemm_2x4__scalar_packed_size, qs8_gemm_2x4__scalar_pack,
     qs8_gemm_2x4__scalar_run},
    {NULL, 0, NULL, NULL, NULL},
};

/* The first (best-first) variant the level allows; a forced variant the CPU cannot run gives NULL. */
const qs8_gemm_ukernel* qs8_gemm_select(unsigned features, const char* forced) {
  for (const qs8_gemm_ukernel* u = qs8_gemm_ukernels; u->name != NULL; u++)
    if (qs8_gemm_level_allows(u, features, forced)) return u;
  return NULL;
}
