/* Unary int8 ops computed through a 256-entry table: the table is built at prepare by running, for every
 * int8 input value, exactly the arithmetic the builtin kernel runs on that value (its own LUT construction
 * from float math, or its integer rescale); invoke only looks values up. */
#ifndef EDGELIFT_OP_LUT_H
#define EDGELIFT_OP_LUT_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"

typedef struct el_lut_state {
  size_t n;
  int8_t lut[256]; /* indexed by the input's bit pattern */
} el_lut_state;

/* y[i] = lut[x[i]] over the node's n elements (state: el_lut_state) */
void el_lut_invoke(const el_node* node, const el_io* io, int8_t* scratch);

/* TFLite's LUTPopulate<int8_t>: dequantize in float32, transform, multiply by 1/so, roundf, add zo, clamp */
void el_lut_populate(int8_t lut[256], float si, int32_t zi, float so, int32_t zo, float (*transform)(float));

/* the int8 input / output checks every unary op shares: per-tensor int8, as many elements out as in */
int el_unary_q8_check(TfLiteContext* c, const TfLiteNode* node, const char** why);
/* output_shape of ops whose output has the input's shape */
int el_same_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* out, const char** why);

#endif
