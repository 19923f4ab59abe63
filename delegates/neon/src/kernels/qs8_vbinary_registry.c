/* The one list of qs8 ADD / MUL variants, best first (see qs8_vbinary.h). */
#include <stddef.h>

#include "qs8_gemm.h" /* EL_CPU_* */
#include "qs8_vbinary.h"

void qs8_vadd__scalar(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vaddc__scalar(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);
void qs8_vmul__scalar(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vmulc__scalar(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);

#if defined(__aarch64__)
void qs8_vadd_x16__neon(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vaddc_x8__neon(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);
void qs8_vmul_x16__neon(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vmulc_x16__neon(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);
#endif

#if defined(__x86_64__)
void qs8_vadd_x16__avx2(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vaddc_x8__avx2(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);
void qs8_vmul_x16__avx2(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
void qs8_vmulc_x16__avx2(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);
#endif

const qs8_vbinary_ukernel qs8_vbinary_ukernels[] = {
#if defined(__aarch64__)
    {"qs8_vbinary__neon", EL_CPU_NEON, qs8_vadd_x16__neon, qs8_vaddc_x8__neon, qs8_vmul_x16__neon,
     qs8_vmulc_x16__neon},
#endif
#if defined(__x86_64__)
    {"qs8_vbinary__avx2", EL_CPU_SSE41 | EL_CPU_AVX2, qs8_vadd_x16__avx2, qs8_vaddc_x8__avx2, qs8_vmul_x16__avx2,
     qs8_vmulc_x16__avx2},
#endif
    {"qs8_vbinary__scalar", 0, qs8_vadd__scalar, qs8_vaddc__scalar, qs8_vmul__scalar, qs8_vmulc__scalar},
    {NULL, 0, NULL, NULL, NULL, NULL},
};
