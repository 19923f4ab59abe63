/* FILL: a tensor of the shape `dims` holding one scalar `value` (Keras' LayerNormalization fills gamma and beta
 * to the token count of a dynamic batch). The builtin copies the value's raw bytes, so int8 is claimed only
 * when value and output share their quantization (no requantization); int32 as is. The dims must be known at
 * prepare: constant, or a shape vector folded by shape inference. */
#include <string.h>

#include "util.h"

typedef struct fill_state {
  size_t n, elem;
} fill_state;

/* the dims vector as an output shape, or 0 with *why */
static int fill_dims(TfLiteContext* c, int dims_idx, el_shape* o, const char** why) {
  const TfLiteTensor* d = el_tensor(c, dims_idx);
  if (d == NULL || d->type != kTfLiteInt32 || d->dims == NULL || d->dims->size != 1) EL_NO("dims not an int32 vector");
  if (!el_is_const(d)) EL_NO("dims computed at run time (not folded)");
  if (d->dims->data[0] > 4) EL_NO("more than 4 dimensions");
  memset(o, 0, sizeof *o);
  o->rank = d->dims->data[0];
  for (int i = 0; i < o->rank; i++) {
    if (d->data.i32[i] < 0) EL_NO("negative dims");
    o->d[i] = d->data.i32[i];
  }
  return 1;
}

static int fill_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("unexpected inputs");
  const TfLiteTensor* v = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (v == NULL || y == NULL || v->dims == NULL || v->dims->size != 0) EL_NO("value not a scalar");
  if (v->type == kTfLiteInt32 && y->type == kTfLiteInt32) {
    if (y->allocation_type == kTfLiteDynamic) EL_NO("dynamic output");
  } else {
    if (v->type != kTfLiteInt8 || !el_is_q8(y) || el_affine(v) == NULL) EL_NO("not int8 (or int32)");
    if (!el_same_quant(v, y)) EL_NO("value and output quantization differ");
  }
  el_shape o;
  if (!fill_dims(c, node->inputs->data[0], &o, why)) return 0;
  const el_shape ys = el_tensor_shape(y);
  if (memcmp(&o, &ys, sizeof o) != 0) EL_NO("output shape differs from dims");
  return 1;
}

static int fill_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  (void)ins;
  return fill_dims(c, node->inputs[0], o, why);
}

static TfLiteStatus fill_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                 const el_kernels* kernels, size_t* scratch) {
  (void)ins;
  (void)kernels;
  (void)scratch;
  fill_state* s = (fill_state*)node->state;
  s->n = el_shape_elements(out);
  s->elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  return kTfLiteOk;
}

static void fill_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const fill_state* s = (const fill_state*)node->state;
  const int8_t* v = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  if (s->elem == 1) {
    memset(y, v[0], s->n);
    return;
  }
  for (size_t i = 0; i < s->n; i++) memcpy(y + i * 4, v, 4);
}

const el_op_def el_op_fill = {kTfLiteBuiltinFill, "FILL", sizeof(fill_state), fill_check, NULL, fill_output_shape,
                              fill_prepare, fill_invoke, NULL};
