/* SLICE and STRIDED_SLICE of int8 activations (equal quantization) and of int32 shape vectors, as views of
 * the strided copy (strided.h). Begin/end/strides must be constant; STRIDED_SLICE follows TFLite's
 * StartForAxis/StopForAxis (strided_slice_logic.h) per axis, shrinking axes drop out of the output. */
#include <string.h>

#include "strided.h"
#include "util.h"

typedef struct slice_state {
  int begin_mask, end_mask, shrink_mask;
  el_view view;
} slice_state;

static int slice_data(TfLiteContext* c, const TfLiteNode* node, const char** why) {
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (x->type == kTfLiteInt32 && y->type == kTfLiteInt32 && x->dims != NULL && x->dims->size <= 4 &&
      x->allocation_type != kTfLiteDynamic && y->allocation_type != kTfLiteDynamic)
    return 1;
  if (!el_is_q8(x) || !el_is_q8(y)) EL_NO("not int8 per-tensor of rank <= 4 (or int32)");
  if (!el_same_quant(x, y)) EL_NO("input and output quantization differ (a requantizing copy)");
  return 1;
}

static const int32_t* vec(TfLiteContext* c, int idx, int n) {
  const TfLiteTensor* t = el_tensor(c, idx);
  if (t == NULL || t->type != kTfLiteInt32 || !el_is_const(t) || t->dims->size != 1 || t->dims->data[0] != n)
    return NULL;
  return t->data.i32;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* TFLite's StartForAxis / StopForAxis for one axis of extent n: the first index and the count */
static void axis_range(int n, int begin, int end, int stride, int bmask, int emask, int shrink, int* start,
                       int* count) {
  int s = begin;
  if (bmask) s = stride > 0 ? 0 : n - 1;
  else {
    if (s < 0) s += n;
    s = stride > 0 ? clampi(s, 0, n) : clampi(s, -1, n - 1);
  }
  *start = s;
  if (shrink) {
    *count = 1;
    return;
  }
  int e = end;
  if (emask) e = stride > 0 ? n : -1;
  else {
    if (e < 0) e += n;
    e = stride > 0 ? clampi(e, 0, n) : clampi(e, -1, n - 1);
  }
  const int len = stride > 0 ? (e - s + stride - 1) / stride : (s - e - stride - 1) / -stride;
  *count = len > 0 ? len : 0;
}

/* ---- STRIDED_SLICE ---- */

static int strided_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  const TfLiteIntArray* in = node->inputs;
  if (in->size != 4) EL_NO("unexpected inputs");
  if (!slice_data(c, node, why)) return 0;
  const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)node->builtin_data;
  if (p == NULL || p->ellipsis_mask != 0 || p->new_axis_mask != 0) EL_NO("ellipsis/new axis masks");
  if (version >= 5) EL_NO("op version with the offset attribute");
  const int r = el_tensor(c, in->data[0])->dims->size;
  const int32_t* st = vec(c, in->data[3], r);
  if (vec(c, in->data[1], r) == NULL || vec(c, in->data[2], r) == NULL || st == NULL)
    EL_NO("begin/end/strides not constant int32 of the input's rank");
  for (int i = 0; i < r; i++)
    if (st[i] == 0) EL_NO("zero stride");
  return 1;
}

static void strided_init(void* state, const TfLiteNode* node) {
  slice_state* s = (slice_state*)state;
  const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)node->builtin_data;
  s->begin_mask = p->begin_mask, s->end_mask = p->end_mask, s->shrink_mask = p->shrink_axis_mask;
}

/* the view of the slice of input shape x; 0 with *why when a shrunk index is out of range */
static int strided_view(TfLiteContext* c, const el_node* node, const el_shape* x, el_view* v, el_shape* o,
                        const char** why) {
  const slice_state* s = (const slice_state*)node->state;
  const int r = x->rank;
  const int32_t *b = vec(c, node->inputs[1], r), *e = vec(c, node->inputs[2], r), *st = vec(c, node->inputs[3], r);
  if (b == NULL || e == NULL || st == NULL) EL_NO("begin/end/strides do not match the input rank");
  ptrdiff_t is[EL_MAX_DIMS];
  el_contiguous_strides(x, is);
  memset(v, 0, sizeof *v);
  o->rank = 0;
  for (int i = 0; i < r; i++) {
    int start, count;
    const int shrink = s->shrink_mask >> i & 1;
    axis_range(x->d[i], b[i], e[i], st[i], s->begin_mask >> i & 1, s->end_mask >> i & 1, shrink, &start, &count);
    if (shrink && (start < 0 || start >= x->d[i])) EL_NO("shrunk index out of range");
    if (count > 0) v->base += start * is[i];
    if (shrink) continue;
    o->d[o->rank] = count;
    v->d[v->rank] = count, v->stride[v->rank] = st[i] * is[i];
    o->rank++, v->rank++;
  }
  return 1;
}

static int strided_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                                const char** why) {
  el_view v;
  return strided_view(c, node, &ins[0], &v, o, why);
}

static TfLiteStatus strided_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                    const el_kernels* kernels, size_t* scratch) {
  (void)out;
  (void)kernels;
  (void)scratch;
  slice_state* s = (slice_state*)node->state;
  el_shape o;
  const char* why;
  if (!strided_view(c, node, &ins[0], &s->view, &o, &why)) return kTfLiteError;
  s->view.elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  el_view_simplify(&s->view);
  return kTfLiteOk;
}

static void view_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  el_view_copy(el_data(io, node->output), el_data(io, node->inputs[0]), &((const slice_state*)node->state)->view);
}

const el_op_def el_op_strided_slice = {kTfLiteBuiltinStridedSlice, "STRIDED_SLICE", sizeof(slice_state),
                                       strided_check, strided_init, strided_output_shape, strided_prepare,
                                       view_invoke, NULL};

/* ---- SLICE (begin, size; size -1: to the end) ---- */

static int slice_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 3) EL_NO("unexpected inputs");
  if (!slice_data(c, node, why)) return 0;
  const int r = el_tensor(c, node->inputs->data[0])->dims->size;
  if (vec(c, node->inputs->data[1], r) == NULL || vec(c, node->inputs->data[2], r) == NULL)
    EL_NO("begin/size not constant int32 of the input's rank");
  return 1;
}

static int slice_view(TfLiteContext* c, const el_node* node, const el_shape* x, el_view* v, const char** why) {
  const int r = x->rank;
  const int32_t *b = vec(c, node->inputs[1], r), *n = vec(c, node->inputs[2], r);
  if (b == NULL || n == NULL) EL_NO("begin/size do not match the input rank");
  ptrdiff_t is[EL_MAX_DIMS];
  el_contiguous_strides(x, is);
  memset(v, 0, sizeof *v);
  v->rank = r;
  for (int i = 0; i < r; i++) {
    const int size = n[i] == -1 ? x->d[i] - b[i] : n[i];
    if (b[i] < 0 || size < 0 || b[i] + size > x->d[i]) EL_NO("slice out of range");
    v->d[i] = size, v->stride[i] = is[i], v->base += b[i] * is[i];
  }
  return 1;
}

static int slice_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  el_view v;
  if (!slice_view(c, node, &ins[0], &v, why)) return 0;
  o->rank = v.rank;
  for (int i = 0; i < v.rank; i++) o->d[i] = v.d[i];
  return 1;
}

static TfLiteStatus slice_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)out;
  (void)kernels;
  (void)scratch;
  slice_state* s = (slice_state*)node->state;
  const char* why;
  if (!slice_view(c, node, &ins[0], &s->view, &why)) return kTfLiteError;
  s->view.elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  el_view_simplify(&s->view);
  return kTfLiteOk;
}

const el_op_def el_op_slice = {kTfLiteBuiltinSlice, "SLICE", sizeof(slice_state), slice_check, NULL,
                               slice_output_shape, slice_prepare, view_invoke, NULL};
