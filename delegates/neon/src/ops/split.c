/* SPLIT and SPLIT_V: one input cut along one axis into several outputs (the first multi-output ops; the
 * partitioner keeps every output of a node). No arithmetic: every output's quantization must equal the
 * input's. Axis and split sizes must be constant. */
#include <string.h>

#include "util.h"

typedef struct split_state {
  int axis_now;
  size_t outer, inner;
  int len[EL_MAX_OUTPUTS];
} split_state;

/* SPLIT: (axis, x); SPLIT_V: (x, size_splits, axis) */
static int x_at(int n_inputs) { return n_inputs == 2 ? 1 : 0; }
static int axis_at(int n_inputs) { return n_inputs == 2 ? 0 : 2; }

static int split_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2 && node->inputs->size != 3) EL_NO("unexpected inputs");
  const int n_in = node->inputs->size;
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[x_at(n_in)]);
  const TfLiteTensor* a = el_tensor(c, node->inputs->data[axis_at(n_in)]);
  if (!el_is_q8(x)) EL_NO("not int8 per-tensor of rank <= 4");
  for (int i = 0; i < node->outputs->size; i++) {
    const TfLiteTensor* y = el_tensor(c, node->outputs->data[i]);
    if (!el_is_q8(y) || !el_same_quant(x, y)) EL_NO("an output's quantization differs from the input's");
  }
  if (a == NULL || a->type != kTfLiteInt32 || !el_is_const(a) || a->dims->size > 1 ||
      (a->dims->size == 1 && a->dims->data[0] != 1))
    EL_NO("axis not a constant int32");
  const int r = x->dims->size, axis = a->data.i32[0] < 0 ? a->data.i32[0] + r : a->data.i32[0];
  if (axis < 0 || axis >= r) EL_NO("axis out of range");
  if (n_in == 3) {
    const TfLiteTensor* s = el_tensor(c, node->inputs->data[1]);
    if (s == NULL || s->type != kTfLiteInt32 || !el_is_const(s) || s->dims->size != 1 ||
        s->dims->data[0] != node->outputs->size)
      EL_NO("size_splits not a constant int32 vector, one per output");
  }
  return 1;
}

static int split_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  const el_shape* x = &ins[x_at(node->n_inputs)];
  const int32_t a = el_tensor(c, node->inputs[axis_at(node->n_inputs)])->data.i32[0];
  const int axis = a < 0 ? a + x->rank : a, n = node->n_outputs;
  if (axis < 0 || axis >= x->rank) EL_NO("axis out of range");
  if (node->n_inputs == 2) {
    if (x->d[axis] % n != 0) EL_NO("axis not divisible by the number of splits");
    for (int i = 0; i < n; i++) o[i] = *x, o[i].d[axis] = x->d[axis] / n;
    return 1;
  }
  /* SPLIT_V: one size may be -1 (the rest) */
  const int32_t* sz = el_tensor(c, node->inputs[1])->data.i32;
  int total = 0, rest = -1;
  for (int i = 0; i < n; i++) {
    if (sz[i] == -1 && rest < 0) rest = i;
    else if (sz[i] < 0) EL_NO("negative split size");
    else total += sz[i];
  }
  if (rest >= 0 ? total > x->d[axis] : total != x->d[axis]) EL_NO("split sizes do not add up to the axis");
  for (int i = 0; i < n; i++) o[i] = *x, o[i].d[axis] = i == rest ? x->d[axis] - total : sz[i];
  return 1;
}

static TfLiteStatus split_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  split_state* s = (split_state*)node->state;
  const el_shape* x = &ins[x_at(node->n_inputs)];
  const int32_t a = el_tensor(c, node->inputs[axis_at(node->n_inputs)])->data.i32[0];
  s->axis_now = a < 0 ? a + x->rank : a;
  s->outer = s->inner = 1;
  for (int d = 0; d < s->axis_now; d++) s->outer *= (size_t)x->d[d];
  for (int d = s->axis_now + 1; d < x->rank; d++) s->inner *= (size_t)x->d[d];
  for (int i = 0; i < node->n_outputs; i++) s->len[i] = out[i].d[s->axis_now];
  return kTfLiteOk;
}

static void split_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const split_state* s = (const split_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[x_at(node->n_inputs)]);
  size_t row = 0;
  for (int i = 0; i < node->n_outputs; i++) row += (size_t)s->len[i] * s->inner;
  size_t col = 0;
  for (int i = 0; i < node->n_outputs; i++) {
    int8_t* y = el_data(io, node->outputs[i]);
    const size_t n = (size_t)s->len[i] * s->inner;
    for (size_t o = 0; o < s->outer; o++) memcpy(y + o * n, x + o * row + col, n);
    col += n;
  }
}

const el_op_def el_op_split = {kTfLiteBuiltinSplit, "SPLIT", sizeof(split_state), split_check, NULL,
                               split_output_shape, split_prepare, split_invoke, NULL};
const el_op_def el_op_split_v = {kTfLiteBuiltinSplitV, "SPLIT_V", sizeof(split_state), split_check, NULL,
                                 split_output_shape, split_prepare, split_invoke, NULL};
