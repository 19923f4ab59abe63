/* The 256-entry table lookup every table-driven unary int8 op runs at invoke (ops/lut.h builds the table at
 * prepare from the builtin's own arithmetic): y[i] = lut[(uint8_t)x[i]], any n. Every variant has the same
 * signature; one list (x8_lut_registry.c) holds them, best first. */
#ifndef EDGELIFT_X8_LUT_H
#define EDGELIFT_X8_LUT_H

#include <stddef.h>
#include <stdint.h>

typedef void (*x8_lut_fn)(size_t n, const int8_t* x, const int8_t* lut, int8_t* y);

typedef struct x8_lut_ukernel {
  const char* name; /* x8_lut__<arch> */
  x8_lut_fn lookup;
} x8_lut_ukernel;

/* All variants compiled for this architecture, best first (the NEON one needs only ARMv8.0's Advanced SIMD,
 * which every aarch64 CPU has); terminated by an entry with name == NULL. */
extern const x8_lut_ukernel x8_lut_ukernels[];

#endif
