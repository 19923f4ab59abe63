/* GATHER with constant indices (int8 data of equal quantization, or int32 shape vectors) and the int32
 * REDUCE_PROD of a shape vector: what N-D Dense layers and attention compute their reshapes with. Constant
 * indices are range-checked at prepare, so invoke cannot meet an index the builtin kernel would refuse. */
#include <string.h>

#include "util.h"

typedef struct gather_state {
  int axis;
  size_t outer, inner, n_idx, in_axis; /* GATHER: bytes per inner block */
  size_t n;                            /* REDUCE_PROD: elements reduced */
  int keep_dims;                       /* REDUCE_PROD: the output is [1], else a scalar */
} gather_state;

static int int32_or_q8(TfLiteContext* c, const TfLiteTensor* x, const TfLiteTensor* y, const char** why) {
  (void)c;
  if (x->type == kTfLiteInt32 && y->type == kTfLiteInt32 && x->dims->size <= 4 && y->dims->size <= 4 &&
      x->allocation_type != kTfLiteDynamic && y->allocation_type != kTfLiteDynamic)
    return 1;
  if (!el_is_q8(x) || !el_is_q8(y)) EL_NO("not int8 per-tensor of rank <= 4 (or int32)");
  if (!el_same_quant(x, y)) EL_NO("input and output quantization differ");
  return 1;
}

/* ---- GATHER ---- */

static int gather_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteGatherParams* p = (const TfLiteGatherParams*)node->builtin_data;
  if (node->inputs->size != 2 || p == NULL) EL_NO("unexpected inputs");
  if (p->batch_dims != 0) EL_NO("batch_dims");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* idx = el_tensor(c, node->inputs->data[1]);
  if (!int32_or_q8(c, x, el_tensor(c, node->outputs->data[0]), why)) return 0;
  if (idx == NULL || idx->type != kTfLiteInt32 || !el_is_const(idx) || idx->dims->size > 2)
    EL_NO("indices not constant int32 (a data-dependent index could be out of range)");
  const int r = x->dims->size, axis = p->axis < 0 ? p->axis + r : p->axis;
  if (axis < 0 || axis >= r || r - 1 + idx->dims->size > 4) EL_NO("axis or output rank out of range");
  return 1;
}

static void gather_init(void* state, const TfLiteNode* node) {
  ((gather_state*)state)->axis = ((const TfLiteGatherParams*)node->builtin_data)->axis;
}

static int gather_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  const gather_state* s = (const gather_state*)node->state;
  const TfLiteTensor* idx = el_tensor(c, node->inputs[1]);
  const el_shape* x = &ins[0];
  const int axis = s->axis < 0 ? s->axis + x->rank : s->axis;
  if (axis < 0 || axis >= x->rank) EL_NO("axis out of range");
  size_t n = 1;
  for (int d = 0; d < idx->dims->size; d++) n *= (size_t)idx->dims->data[d];
  for (size_t i = 0; i < n; i++)
    if (idx->data.i32[i] < 0 || idx->data.i32[i] >= x->d[axis]) EL_NO("index out of range");
  o->rank = 0;
  for (int d = 0; d < axis; d++) o->d[o->rank++] = x->d[d];
  for (int d = 0; d < idx->dims->size; d++) o->d[o->rank++] = idx->dims->data[d];
  for (int d = axis + 1; d < x->rank; d++) o->d[o->rank++] = x->d[d];
  return 1;
}

static TfLiteStatus gather_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)out;
  (void)kernels;
  (void)scratch;
  gather_state* s = (gather_state*)node->state;
  const el_shape* x = &ins[0];
  const int axis = s->axis < 0 ? s->axis + x->rank : s->axis;
  const size_t elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  s->outer = 1, s->inner = elem, s->n_idx = 1;
  for (int d = 0; d < axis; d++) s->outer *= (size_t)x->d[d];
  for (int d = axis + 1; d < x->rank; d++) s->inner *= (size_t)x->d[d];
  const TfLiteTensor* idx = el_tensor(c, node->inputs[1]);
  for (int d = 0; d < idx->dims->size; d++) s->n_idx *= (size_t)idx->dims->data[d];
  s->in_axis = (size_t)x->d[axis];
  return kTfLiteOk;
}

static void gather_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const gather_state* s = (const gather_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  /* constant, or folded by shape inference and computed inside the partition */
  const int32_t* idx = (const int32_t*)(const void*)el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  for (size_t o = 0; o < s->outer; o++)
    for (size_t i = 0; i < s->n_idx; i++, y += s->inner)
      memcpy(y, x + (o * s->in_axis + (size_t)idx[i]) * s->inner, s->inner);
}

const el_op_def el_op_gather = {kTfLiteBuiltinGather, "GATHER", sizeof(gather_state), gather_check, gather_init,
                                gather_output_shape, gather_prepare, gather_invoke, NULL};

/* ---- REDUCE_PROD of an int32 vector (a shape's element count) ---- */

static int prod_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2 || node->builtin_data == NULL) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* a = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (!el_is_i32_vector(x) || x->dims->size != 1 || !el_is_i32_vector(y)) EL_NO("not an int32 vector");
  if (a == NULL || a->type != kTfLiteInt32 || !el_is_const(a) || a->dims->size > 1 ||
      (a->dims->size == 1 && a->dims->data[0] != 1) || (a->data.i32[0] != 0 && a->data.i32[0] != -1))
    EL_NO("axis not a constant 0");
  return 1;
}

static void prod_init(void* state, const TfLiteNode* node) {
  ((gather_state*)state)->keep_dims = ((const TfLiteReducerParams*)node->builtin_data)->keep_dims;
}

/* TFLite's rule for a vector reduced over its one axis: [1] with keep_dims, else a scalar */
static int prod_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  (void)c;
  if (ins[0].rank != 1) EL_NO("not a vector");
  memset(o, 0, sizeof *o);
  o->rank = ((const gather_state*)node->state)->keep_dims ? 1 : 0;
  if (o->rank) o->d[0] = 1; /* (unused dimensions stay 0: shapes are compared whole) */
  return 1;
}

static TfLiteStatus prod_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                 const el_kernels* kernels, size_t* scratch) {
  (void)c;
  (void)out;
  (void)kernels;
  (void)scratch;
  ((gather_state*)node->state)->n = (size_t)ins[0].d[0];
  return kTfLiteOk;
}

static void prod_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const int32_t* x = (const int32_t*)(const void*)el_data(io, node->inputs[0]);
  uint32_t p = 1; /* unsigned: wraps like the int32 product the runtime computes, without C's overflow */
  for (size_t i = 0; i < ((const gather_state*)node->state)->n; i++) p *= (uint32_t)x[i];
  *(int32_t*)(void*)el_data(io, node->output) = (int32_t)p;
}

const el_op_def el_op_reduce_prod = {kTfLiteBuiltinReduceProd, "REDUCE_PROD", sizeof(gather_state), prod_check,
                                     prod_init, prod_output_shape, prod_prepare, prod_invoke, NULL};
