/* Table-driven unary int8 ops: the shared pieces (see lut.h). */
#include "lut.h"

#include <math.h>

#include "../kernels/x8_lut.h"
#include "../requantize.h"
#include "util.h"

/* the best lookup compiled in (NEON TBL on aarch64, which every aarch64 CPU runs; the portable loop elsewhere):
 * a lookup computes nothing, so the variants differ only in speed (tests/neon/test_lut_kernels.py) */
void el_lut_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const el_lut_state* s = (const el_lut_state*)node->state;
  x8_lut_ukernels[0].lookup(s->n, el_data(io, node->inputs[0]), s->lut, el_data(io, node->output));
}

void el_lut_populate(int8_t lut[256], float si, int32_t zi, float so, int32_t zo, float (*transform)(float)) {
  const float inverse_scale = 1.0f / so;
  for (int32_t v = -128; v <= 127; v++) {
    const float dequantized = si * (float)(v - zi);
    const float rescaled = roundf(transform(dequantized) * inverse_scale);
    const float shifted = rescaled + (float)zo;
    /* the builtin casts before clamping; its transforms are bounded, so the cast never overflows there */
    const int32_t q = shifted >= 127.0f ? 127 : shifted <= -128.0f ? -128 : (int32_t)shifted;
    lut[(uint8_t)(int8_t)v] = (int8_t)q;
  }
}

int el_unary_q8_check(TfLiteContext* c, const TfLiteNode* node, const char** why) {
  const TfLiteTensor* x = node->inputs->size > 0 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(out)) EL_NO("not int8 with per-tensor quantization");
  const el_shape xs = el_tensor_shape(x), os = el_tensor_shape(out);
  if (xs.rank < 1 || el_shape_elements(&xs) != el_shape_elements(&os)) EL_NO("unexpected shapes");
  return 1;
}

int el_same_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* out, const char** why) {
  (void)c;
  (void)node;
  (void)why;
  *out = ins[0];
  return 1;
}
