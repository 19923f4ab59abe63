/* The one list of qs8 transposed-convolution variants, best first (see qs8_tconv.h). */
#include <stddef.h>

#include "qs8_gemm.h" /* EL_CPU_* */
#include "qs8_tconv.h"

size_t qs8_tconv_16c__scalar_packed_size(const qs8_tconv_pack_params* pp);
void qs8_tconv_16c__scalar_pack(const qs8_tconv_pack_params* pp, void* packed);
void qs8_tconv_16c__scalar(const qs8_tconv_params* p, const int8_t* x, int oy, int8_t* y_row);
#if defined(__aarch64__)
size_t qs8_tconv_16c__neon_mlal_packed_size(const qs8_tconv_pack_params* pp);
void qs8_tconv_16c__neon_mlal_pack(const qs8_tconv_pack_params* pp, void* packed);
void qs8_tconv_16c__neon_mlal(const qs8_tconv_params* p, const int8_t* x, int oy, int8_t* y_row);
#endif

const qs8_tconv_ukernel qs8_tconv_ukernels[] = {
#if defined(__aarch64__)
    {"qs8_tconv_16c__neon_mlal", EL_CPU_NEON, qs8_tconv_16c__neon_mlal_packed_size, qs8_tconv_16c__neon_mlal_pack,
     qs8_tconv_16c__neon_mlal},
#endif
    {"qs8_tconv_16c__scalar", 0, qs8_tconv_16c__scalar_packed_size, qs8_tconv_16c__scalar_pack,
     qs8_tconv_16c__scalar},
    {NULL, 0, NULL, NULL, NULL},
};
