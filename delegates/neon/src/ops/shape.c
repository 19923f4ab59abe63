/* int32 shape arithmetic in front of a RESHAPE (Keras' Reshape with a dynamic batch): SHAPE, PACK (the
 * STRIDED_SLICE between them is slice.c's). Exact by nature; claimed so whole models stay in one partition. */
#include <string.h>

#include "util.h"

typedef struct shape_state {
  el_shape in_shape;
} shape_state;

static TfLiteStatus keep_input_shape(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                     const el_kernels* kernels, size_t* scratch) {
  (void)c;
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  ((shape_state*)node->state)->in_shape = ins[0];
  return kTfLiteOk;
}

/* ---- SHAPE ---- */

static int shape_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteTensor* x = node->inputs->size > 0 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (node->inputs->size != 1 || x == NULL || x->dims == NULL || x->dims->size > EL_MAX_DIMS) EL_NO("unexpected input");
  if (!el_is_i32_vector(out) || out->dims->size != 1 || out->dims->data[0] != x->dims->size) EL_NO("output not int32");
  return 1;
}

static int shape_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  (void)c;
  (void)node;
  (void)why;
  o->rank = 1;
  o->d[0] = ins[0].rank;
  return 1;
}

static void shape_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const shape_state* s = (const shape_state*)node->state;
  int32_t* y = (int32_t*)(void*)el_data(io, node->output);
  for (int d = 0; d < s->in_shape.rank; d++) y[d] = s->in_shape.d[d];
}

const el_op_def el_op_shape = {kTfLiteBuiltinShape, "SHAPE", sizeof(shape_state), shape_check, NULL,
                               shape_output_shape, keep_input_shape, shape_invoke, NULL};

/* ---- PACK along axis 0 ---- */

static int pack_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteIntArray* in = node->inputs;
  const TfLiteTensor* x = in->size > 0 ? el_tensor(c, in->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  const TfLitePackParams* p = (const TfLitePackParams*)node->builtin_data;
  if (p == NULL || x == NULL || p->axis != 0 || p->values_count != in->size || in->size > EL_MAX_INPUTS)
    EL_NO("axis not 0");
  if (out == NULL || out->type != kTfLiteInt32 || out->allocation_type == kTfLiteDynamic) EL_NO("not int32");
  for (int i = 0; i < in->size; i++) {
    const TfLiteTensor* t = el_tensor(c, in->data[i]);
    if (t == NULL || t->type != kTfLiteInt32 || t->dims == NULL || t->dims->size != x->dims->size) EL_NO("inputs differ");
    for (int d = 0; d < t->dims->size; d++)
      if (t->dims->data[d] != x->dims->data[d]) EL_NO("inputs differ");
  }
  return 1;
}

static int pack_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  (void)c;
  const el_shape* x = &ins[0];
  o->rank = x->rank + 1;
  o->d[0] = node->n_inputs;
  for (int d = 0; d < x->rank; d++) o->d[d + 1] = x->d[d];
  for (int i = 0; i < node->n_inputs; i++)
    if (memcmp(&ins[i], x, sizeof *x) != 0) EL_NO("inputs differ");
  return 1;
}

static void pack_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const shape_state* s = (const shape_state*)node->state;
  int32_t* y = (int32_t*)(void*)el_data(io, node->output);
  const size_t each = el_shape_elements(&s->in_shape);
  for (int i = 0; i < node->n_inputs; i++)
    memcpy(y + (size_t)i * each, el_data(io, node->inputs[i]), each * sizeof(int32_t));
}

const el_op_def el_op_pack = {kTfLiteBuiltinPack, "PACK", sizeof(shape_state), pack_check, NULL, pack_output_shape,
                              keep_input_shape, pack_invoke, NULL};
