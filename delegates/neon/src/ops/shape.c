/* int32 shape arithmetic in front of a RESHAPE (Keras' Reshape with a dynamic batch): SHAPE, a 1-D
 * STRIDED_SLICE, PACK. Exact by nature; claimed so whole models stay in one partition. */
#include <string.h>

#include "util.h"

typedef struct shape_state {
  int begin_mask, end_mask, shrink_mask; /* STRIDED_SLICE */
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

/* ---- STRIDED_SLICE of a 1-D int32 tensor ---- */

/* TFLite's StartForAxis/StopForAxis on one axis: (start, count) */
static void slice_1d(int n, int begin, int end, int stride, int begin_mask, int end_mask, int shrink, int* start,
                     int* count) {
  int s = begin, e = end;
  if (begin_mask & 1) s = stride > 0 ? 0 : n - 1;
  else {
    if (s < 0) s += n;
    s = stride > 0 ? (s < 0 ? 0 : (s > n ? n : s)) : (s < -1 ? -1 : (s > n - 1 ? n - 1 : s));
  }
  if (shrink & 1) {
    *start = s;
    *count = 1;
    return;
  }
  if (end_mask & 1) e = stride > 0 ? n : -1;
  else {
    if (e < 0) e += n;
    e = stride > 0 ? (e < 0 ? 0 : (e > n ? n : e)) : (e < -1 ? -1 : (e > n - 1 ? n - 1 : e));
  }
  int len = stride > 0 ? (e - s + stride - 1) / stride : (s - e + (-stride) - 1) / (-stride);
  *start = s;
  *count = len > 0 ? len : 0;
}

static int slice_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  const TfLiteIntArray* in = node->inputs;
  const TfLiteTensor* x = in->size > 0 ? el_tensor(c, in->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (in->size != 4 || !el_is_i32_vector(x) || x->dims->size != 1 || !el_is_i32_vector(out))
    EL_NO("not a 1-D int32 slice");
  const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)node->builtin_data;
  if (p == NULL || p->ellipsis_mask != 0 || p->new_axis_mask != 0) EL_NO("ellipsis/new axis masks");
  if ((p->begin_mask | p->end_mask | p->shrink_axis_mask) & ~1) EL_NO("masks beyond axis 0");
  for (int i = 1; i < 4; i++) {
    const TfLiteTensor* t = el_tensor(c, in->data[i]);
    if (!el_is_i32_vector(t) || !el_is_const(t) || t->dims->size != 1 || t->dims->data[0] != 1)
      EL_NO("begin/end/strides not constant");
  }
  if (el_tensor(c, in->data[3])->data.i32[0] == 0) EL_NO("zero stride");
  if (version >= 5) EL_NO("op version with the offset attribute");
  return 1;
}

static void slice_init(void* state, const TfLiteNode* node) {
  shape_state* s = (shape_state*)state;
  const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)node->builtin_data;
  s->begin_mask = p->begin_mask, s->end_mask = p->end_mask, s->shrink_mask = p->shrink_axis_mask;
}

static void slice_of(TfLiteContext* c, const el_node* node, int n, int* start, int* count) {
  const shape_state* s = (const shape_state*)node->state;
  slice_1d(n, el_tensor(c, node->inputs[1])->data.i32[0], el_tensor(c, node->inputs[2])->data.i32[0],
           el_tensor(c, node->inputs[3])->data.i32[0], s->begin_mask, s->end_mask, s->shrink_mask, start, count);
}

static int slice_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  const shape_state* s = (const shape_state*)node->state;
  int start, count;
  slice_of(c, node, ins[0].d[0], &start, &count);
  if (s->shrink_mask & 1) {
    if (start < 0 || start >= ins[0].d[0]) EL_NO("slice index out of range");
    o->rank = 0;
  } else {
    o->rank = 1;
    o->d[0] = count;
  }
  return 1;
}

static void slice_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const shape_state* s = (const shape_state*)node->state;
  int32_t* y = (int32_t*)(void*)el_data(io, node->output);
  const int32_t* x = (const int32_t*)(const void*)el_data(io, node->inputs[0]);
  const int stride = io->context->tensors[node->inputs[3]].data.i32[0];
  int start, count;
  slice_of(io->context, node, s->in_shape.d[0], &start, &count);
  for (int i = 0; i < count; i++) y[i] = x[start + i * stride];
}

const el_op_def el_op_strided_slice = {kTfLiteBuiltinStridedSlice, "STRIDED_SLICE", sizeof(shape_state),
                                       slice_check, slice_init, slice_output_shape, keep_input_shape, slice_invoke,
                                       NULL};

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
