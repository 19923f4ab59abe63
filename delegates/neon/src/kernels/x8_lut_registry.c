/* The one list of table-lookup variants, best first (see x8_lut.h). */
#include <stddef.h>

#include "x8_lut.h"

void x8_lut__scalar(size_t n, const int8_t* x, const int8_t* lut, int8_t* y);
#if defined(__aarch64__)
void x8_lut__neon_tbl(size_t n, const int8_t* x, const int8_t* lut, int8_t* y);
#endif

const x8_lut_ukernel x8_lut_ukernels[] = {
#if defined(__aarch64__)
    {"x8_lut__neon_tbl", x8_lut__neon_tbl},
#endif
    {"x8_lut__scalar", x8_lut__scalar},
    {NULL, NULL},
};
