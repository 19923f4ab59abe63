/* The int8 ADD / MUL microkernel interface: one call of LiteRT's optimized kernels (optimized_integer_ops::Add /
 * Mul) over n elements, every variant with the same signatures, one table (qs8_vbinary_registry.c) listing them.
 *
 *   add  (elementwise): y[i] = a[i] + b[i], n elements;  addc (scalar broadcast): y[i] = a + b[i]
 *   mul  (elementwise): y[i] = a[i] * b[i];              mulc (scalar broadcast): y[i] = a * b[i]
 *
 * Each call rounds exactly as the builtin's call does, element by element (qs8_vbinary_rules.h): ADD's
 * elementwise vector body is its first 16 * floor(n / 16) elements, its scalar-broadcast body the first
 * 8 * floor(n / 8), MUL's bodies (both kinds) the first 16 * floor(n / 16); the rest of each call is its tail,
 * with the tail's own rounding. Which call a node makes (and with which input first) is the op's business
 * (ops/broadcast.h, ops/elementwise.c); a variant only computes it. */
#ifndef EDGELIFT_QS8_VBINARY_H
#define EDGELIFT_QS8_VBINARY_H

#include <stddef.h>
#include <stdint.h>

/* TFLite's ArithmeticParams as one call sees them ("a" is the first input of the call: the broadcast scalar of
 * a c call; the op swaps the inputs' parameters when the builtin switches them). */
typedef struct qs8_vbinary_params {
  int32_t a_offset, b_offset;          /* -zero point of each input */
  int32_t a_multiplier, a_shift;       /* ADD only: each input's rescale (shift <= 0) after the left shift of 20 */
  int32_t b_multiplier, b_shift;
  int32_t out_multiplier, out_shift;   /* TFLite convention: shift > 0 shifts left (ADD: always <= 0) */
  int32_t out_zero_point, act_min, act_max;
} qs8_vbinary_params;

enum { QS8_VADD_LEFT_SHIFT = 20 }; /* add.cc: both inputs shifted up 20 bits before their rescale */

typedef void (*qs8_vbinary_fn)(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y);
typedef void (*qs8_vbinaryc_fn)(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y);

typedef struct qs8_vbinary_ukernel {
  const char* name; /* <dtype>_vbinary__<arch>; its functions are named qs8_v<op>[c]_x<body>__<arch> */
  unsigned required_features;
  qs8_vbinary_fn add;
  qs8_vbinaryc_fn addc;
  qs8_vbinary_fn mul;
  qs8_vbinaryc_fn mulc;
} qs8_vbinary_ukernel;

/* All variants compiled for this architecture, best first; terminated by an entry with name == NULL. */
extern const qs8_vbinary_ukernel qs8_vbinary_ukernels[];

#endif
