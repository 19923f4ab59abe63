/* REDUCE_MAX and SUM of int8 over constant axes (any subset of rank <= 4, negative ones too, keep_dims or not).
 * REDUCE_MAX: LiteRT's int8 kernel takes the maximum of the raw values (no rescale), so it is claimed only when
 * input and output quantization are equal. SUM: see sum_invoke. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct reduce_state {
  int keep_dims;
  el_shape in_shape;
  size_t out_stride[EL_MAX_DIMS]; /* per input axis: the output stride, 0 on reduced axes */
  size_t out_n;
  /* SUM only */
  float scale, bias; /* si / so, and -zi * (si / so) * n, both in float as the builtin computes them */
  int32_t out_zp;
  int32_t* sums;
  /* the input as rows: axes of extent 1 dropped, neighbours both reduced or both kept merged; the last run is
   * the row (row_len elements, reduced into one sum or added onto row_len sums), the others an odometer */
  int runs;
  int run_len[EL_MAX_DIMS];
  size_t run_out_stride[EL_MAX_DIMS];
  size_t row_len;
  int row_reduced;
} reduce_state;

/* the reduced-axes bit mask, or -1 */
static int axes_mask(TfLiteContext* c, int axes_idx, int rank) {
  const TfLiteTensor* a = el_tensor(c, axes_idx);
  if (a == NULL || a->type != kTfLiteInt32 || !el_is_const(a) || a->dims->size > 1) return -1;
  const int n = a->dims->size == 0 ? 1 : a->dims->data[0];
  int mask = 0;
  for (int i = 0; i < n; i++) {
    const int ax = a->data.i32[i] < 0 ? a->data.i32[i] + rank : a->data.i32[i];
    if (ax < 0 || ax >= rank) return -1;
    mask |= 1 << ax;
  }
  return mask;
}

static int max_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2 || node->builtin_data == NULL) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(y)) EL_NO("not int8 per-tensor of rank <= 4");
  if (!el_same_quant(x, y)) EL_NO("input and output quantization differ");
  if (axes_mask(c, node->inputs->data[1], x->dims->size) < 0) EL_NO("axes not constant int32 in range");
  return 1;
}

static void max_init(void* state, const TfLiteNode* node) {
  ((reduce_state*)state)->keep_dims = ((const TfLiteReducerParams*)node->builtin_data)->keep_dims;
}

static int max_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                            const char** why) {
  const reduce_state* s = (const reduce_state*)node->state;
  const int mask = axes_mask(c, node->inputs[1], ins[0].rank);
  if (mask < 0) EL_NO("axes out of range");
  o->rank = 0;
  for (int d = 0; d < ins[0].rank; d++) {
    if (!(mask >> d & 1)) o->d[o->rank++] = ins[0].d[d];
    else if (s->keep_dims) o->d[o->rank++] = 1;
  }
  return 1;
}

static TfLiteStatus max_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  reduce_state* s = (reduce_state*)node->state;
  const int mask = axes_mask(c, node->inputs[1], ins[0].rank);
  s->in_shape = ins[0];
  size_t st = 1;
  for (int d = ins[0].rank - 1; d >= 0; d--) {
    s->out_stride[d] = (mask >> d & 1) ? 0 : st;
    if (!(mask >> d & 1)) st *= (size_t)ins[0].d[d];
  }
  s->out_n = el_shape_elements(out);
  return kTfLiteOk;
}

static void max_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const reduce_state* s = (const reduce_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  memset(y, 0x80, s->out_n); /* -128: the reduction of nothing is the lowest value, as in the builtin */
  const int R = s->in_shape.rank;
  const size_t n = el_shape_elements(&s->in_shape);
  int idx[EL_MAX_DIMS] = {0};
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (x[i] > y[o]) y[o] = x[i];
    for (int d = R - 1; d >= 0; d--) { /* odometer: the output offset follows the kept axes */
      o += s->out_stride[d];
      if (++idx[d] < s->in_shape.d[d]) break;
      o -= s->out_stride[d] * (size_t)s->in_shape.d[d];
      idx[d] = 0;
    }
  }
}

const el_op_def el_op_reduce_max = {kTfLiteBuiltinReduceMax, "REDUCE_MAX", sizeof(reduce_state), max_check,
                                    max_init, max_output_shape, max_prepare, max_invoke, NULL};

/* -- SUM ------------------------------------------------------------------------------------------------------ */
static int sum_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2 || node->builtin_data == NULL) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(y)) EL_NO("not int8 per-tensor of rank <= 4");
  const int mask = axes_mask(c, node->inputs->data[1], x->dims->size);
  if (mask < 0) EL_NO("axes not constant int32 in range");
  if (mask == 0) EL_NO("no axis (the builtin's copy path)");
  for (int d = 0; d < x->dims->size; d++)
    if (x->dims->data[d] == 0) EL_NO("an empty input");
  const el_shape xs = el_tensor_shape(x);
  if (el_shape_elements(&xs) > ((size_t)1 << 23)) EL_NO("more than 2^23 elements (the int32 sum could overflow)");
  return 1;
}

static void sum_release(void* state) {
  reduce_state* s = (reduce_state*)state;
  free(s->sums);
  s->sums = NULL;
}

static TfLiteStatus sum_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                const el_kernels* kernels, size_t* scratch) {
  reduce_state* s = (reduce_state*)node->state;
  max_prepare(c, node, ins, out, kernels, scratch);
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->output);
  const size_t n = s->out_n ? el_shape_elements(&s->in_shape) / s->out_n : 0;
  /* the builtin's float set-up, operation for operation (the build has -ffp-contract=off: no FMA) */
  s->scale = x->params.scale / y->params.scale;
  s->bias = (float)(-x->params.zero_point) * s->scale * (float)n;
  s->out_zp = y->params.zero_point;
  s->runs = 0;
  int last = -1; /* 1: the current run is reduced, 0: kept */
  for (int d = 0; d < s->in_shape.rank; d++) {
    if (s->in_shape.d[d] == 1) continue;
    const int reduced = s->out_stride[d] == 0;
    if (reduced == last) {
      s->run_len[s->runs - 1] *= s->in_shape.d[d];
      if (!reduced) s->run_out_stride[s->runs - 1] = s->out_stride[d]; /* the innermost kept axis's stride */
    } else {
      s->run_len[s->runs] = s->in_shape.d[d];
      s->run_out_stride[s->runs++] = s->out_stride[d];
      last = reduced;
    }
  }
  if (s->runs == 0) { /* one element */
    s->run_len[0] = 1;
    s->run_out_stride[0] = 0;
    s->runs = 1;
    last = 1;
  }
  s->row_len = (size_t)s->run_len[s->runs - 1];
  s->row_reduced = last;
  sum_release(s);
  s->sums = (int32_t*)malloc(sizeof(int32_t) * (s->out_n + 1));
  return s->sums ? kTfLiteOk : kTfLiteError;
}

/* LiteRT 2.3's int8 SUM (established by tests/opcatalogue.py's SUM sweeps, equal quantization included): raw
 * int32 sums of the int8 values, then round(sum * scale + bias) in float32, half away from zero, plus the output
 * zero point, clamped to int8. */
static void sum_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const reduce_state* s = (const reduce_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  int32_t* sums = s->sums;
  memset(sums, 0, sizeof(int32_t) * s->out_n);
  const size_t L = s->row_len;
  const size_t rows = el_shape_elements(&s->in_shape) / L;
  const int R = s->runs - 1; /* the odometer's runs, outside the row */
  int idx[EL_MAX_DIMS] = {0};
  size_t o = 0;
  for (size_t r = 0; r < rows; r++) {
    const int8_t* restrict xr = x + r * L;
    if (s->row_reduced) { /* a contiguous row into one sum (int8 -> int32 widening adds vectorize) */
      int32_t acc = 0;
      for (size_t j = 0; j < L; j++) acc += xr[j];
      sums[o] += acc;
    } else { /* a row onto L consecutive sums */
      int32_t* restrict so = sums + o;
      for (size_t j = 0; j < L; j++) so[j] += xr[j];
    }
    for (int d = R - 1; d >= 0; d--) { /* odometer over the outer runs: the output offset follows the kept ones */
      o += s->run_out_stride[d];
      if (++idx[d] < s->run_len[d]) break;
      o -= s->run_out_stride[d] * (size_t)s->run_len[d];
      idx[d] = 0;
    }
  }
  for (size_t k = 0; k < s->out_n; k++) {
    const float v = (float)sums[k] * s->scale + s->bias;
    int32_t q = (int32_t)roundf(v) + s->out_zp;
    y[k] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
  }
}

const el_op_def el_op_sum = {kTfLiteBuiltinSum, "SUM", sizeof(reduce_state), sum_check, max_init,
                             max_output_shape, sum_prepare, sum_invoke, sum_release};
