/* Pooling and reductions: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN. */
#include <stdlib.h>
#include <string.h>

#include "../requantize.h"
#include "util.h"

/* ---- AVERAGE_POOL_2D / MAX_POOL_2D ---- */

typedef struct pool_state {
  int padding, stride_w, stride_h, filter_w, filter_h, activation;
  el_shape in_shape, out_shape;
  int32_t act_min, act_max;
  int pad_top, pad_left;
} pool_state;

static int pool_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteTensor* x = node->inputs->size > 0 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(out) || x->dims->size != 4 || out->dims->size != 4) EL_NO("not 4-D int8");
  if (!el_same_quant(x, out)) EL_NO("input and output quantization differ");
  const TfLitePoolParams* p = (const TfLitePoolParams*)node->builtin_data;
  if (p == NULL || !el_act_ok(p->activation) || p->stride_width < 1 || p->stride_height < 1 || p->filter_width < 1 ||
      p->filter_height < 1)
    EL_NO("unsupported options");
  if (p->padding != kTfLitePaddingSame && p->padding != kTfLitePaddingValid) EL_NO("unknown padding");
  if (out->dims->data[1] != el_out_size(p->padding, x->dims->data[1], p->filter_height, p->stride_height, 1) ||
      out->dims->data[2] != el_out_size(p->padding, x->dims->data[2], p->filter_width, p->stride_width, 1) ||
      out->dims->data[3] != x->dims->data[3])
    EL_NO("output shape does not match options");
  return 1;
}

static void pool_init(void* state, const TfLiteNode* node) {
  pool_state* s = (pool_state*)state;
  const TfLitePoolParams* p = (const TfLitePoolParams*)node->builtin_data;
  s->padding = p->padding, s->stride_w = p->stride_width, s->stride_h = p->stride_height;
  s->filter_w = p->filter_width, s->filter_h = p->filter_height, s->activation = p->activation;
}

static int pool_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  (void)c;
  const pool_state* s = (const pool_state*)node->state;
  const el_shape* x = &ins[0];
  if (x->rank != 4) EL_NO("input is not 4-D");
  o->rank = 4;
  o->d[0] = x->d[0];
  o->d[1] = el_out_size(s->padding, x->d[1], s->filter_h, s->stride_h, 1);
  o->d[2] = el_out_size(s->padding, x->d[2], s->filter_w, s->stride_w, 1);
  o->d[3] = x->d[3];
  if (o->d[1] <= 0 || o->d[2] <= 0) EL_NO("input smaller than the filter");
  return 1;
}

static TfLiteStatus pool_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                 const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  pool_state* s = (pool_state*)node->state;
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  el_act_range(s->activation, el_tensor(c, node->output), &s->act_min, &s->act_max);
  s->pad_top = el_pad_before(s->stride_h, 1, s->in_shape.d[1], s->filter_h, s->out_shape.d[1]);
  s->pad_left = el_pad_before(s->stride_w, 1, s->in_shape.d[2], s->filter_w, s->out_shape.d[2]);
  return kTfLiteOk;
}

/* MAX_POOL_2D of one output pixel: taps outer, channels inner, so the compiler's vector max runs along the
 * channels (no rounding anywhere: the same maxima in any order); rows [iy0, iy1) and columns [ix0, ix1) of the
 * image, all inside it; -128 where no tap is inside, as TFLite. */
static void max_pixel(const int8_t* image, int W, int iy0, int iy1, int ix0, int ix1, int C, int8_t lo, int8_t hi,
                      int8_t* restrict yp) {
  for (int ch = 0; ch < C; ch++) yp[ch] = INT8_MIN;
  for (int iy = iy0; iy < iy1; iy++)
    for (int ix = ix0; ix < ix1; ix++) {
      const int8_t* restrict src = image + ((size_t)iy * W + (size_t)ix) * C;
      for (int ch = 0; ch < C; ch++) yp[ch] = src[ch] > yp[ch] ? src[ch] : yp[ch];
    }
  for (int ch = 0; ch < C; ch++) yp[ch] = yp[ch] < lo ? lo : yp[ch] > hi ? hi : yp[ch];
}

static void pool_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const pool_state* s = (const pool_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const int B = s->in_shape.d[0], H = s->in_shape.d[1], W = s->in_shape.d[2], C = s->in_shape.d[3];
  const int OH = s->out_shape.d[1], OW = s->out_shape.d[2];
  const int avg = node->code == kTfLiteBuiltinAveragePool2d;
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        const int iy0 = oy * s->stride_h - s->pad_top, ix0 = ox * s->stride_w - s->pad_left;
        const int fy0 = iy0 < 0 ? -iy0 : 0, fx0 = ix0 < 0 ? -ix0 : 0;
        const int fy1 = s->filter_h < H - iy0 ? s->filter_h : H - iy0;
        const int fx1 = s->filter_w < W - ix0 ? s->filter_w : W - ix0;
        int8_t* yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
        if (!avg) {
          const int8_t* image = x + (size_t)b * H * W * C;
          max_pixel(image, W, iy0 + fy0, iy0 + fy1, ix0 + fx0, ix0 + fx1, C, (int8_t)s->act_min, (int8_t)s->act_max,
                    yp);
          continue;
        }
        for (int ch = 0; ch < C; ch++) {
          int32_t acc = avg ? 0 : -128;
          int count = 0;
          for (int fy = fy0; fy < fy1; fy++) {
            for (int fx = fx0; fx < fx1; fx++) {
              const int32_t v = x[(((size_t)b * H + iy0 + fy) * W + ix0 + fx) * C + ch];
              if (avg) acc += v;
              else if (v > acc) acc = v;
              count++;
            }
          }
          if (avg) {
            if (count == 0) count = 1;
            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          }
          yp[ch] = (int8_t)el_clamp(acc, s->act_min, s->act_max);
        }
      }
    }
  }
}

const el_op_def el_op_average_pool_2d = {kTfLiteBuiltinAveragePool2d, "AVERAGE_POOL_2D", sizeof(pool_state),
                                         pool_check, pool_init, pool_output_shape, pool_prepare, pool_invoke, NULL};
const el_op_def el_op_max_pool_2d = {kTfLiteBuiltinMaxPool2d, "MAX_POOL_2D", sizeof(pool_state), pool_check,
                                     pool_init, pool_output_shape, pool_prepare, pool_invoke, NULL};

/* ---- MEAN ---- */

typedef struct mean_state {
  int keep_dims;
  el_shape in_shape, out_shape;
  int32_t in_zp, out_zp;
  int reduce_mask; /* bit i set when axis i is reduced */
  int spatial;     /* keep_dims over H and W of a 4-D tensor: TFLite's optimized_integer_ops::Mean */
  int32_t mo, so;  /* reference_ops::QuantizedMeanOrSum: multiplier(si / so) */
  int32_t m1, s1, bias; /* the spatial kernel's own multiplier(si / (n * so)) and bias */
  int32_t* sums;
} mean_state;

/* the reduced axes as a bit mask, or -1 when one is out of range */
static int axis_mask(const TfLiteTensor* axis, int rank) {
  const el_shape as = el_tensor_shape(axis);
  int mask = 0;
  for (size_t i = 0; i < el_shape_elements(&as); i++) {
    int a = axis->data.i32[i];
    if (a < 0) a += rank;
    if (a < 0 || a >= rank) return -1;
    mask |= 1 << a;
  }
  return mask;
}

static int mean_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteIntArray* in = node->inputs;
  const TfLiteTensor* x = in->size > 0 ? el_tensor(c, in->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (in->size != 2 || !el_is_q8(x) || !el_is_q8(out)) EL_NO("not int8");
  const TfLiteTensor* axis = el_tensor(c, in->data[1]);
  if (axis == NULL || axis->type != kTfLiteInt32 || !el_is_const(axis)) EL_NO("axis not constant int32");
  if (node->builtin_data == NULL) EL_NO("no options");
  const int mask = axis_mask(axis, x->dims->size);
  if (mask < 0) EL_NO("axis out of range");
  if (mask == 0) EL_NO("no axis");
  return 1;
}

static void mean_init(void* state, const TfLiteNode* node) {
  ((mean_state*)state)->keep_dims = ((const TfLiteReducerParams*)node->builtin_data)->keep_dims;
}

static int mean_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  const mean_state* s = (const mean_state*)node->state;
  const el_shape* x = &ins[0];
  const int mask = axis_mask(el_tensor(c, node->inputs[1]), x->rank);
  if (mask < 0) EL_NO("axis out of range");
  for (int i = 0; i < x->rank; i++) {
    if (!(mask & (1 << i))) o->d[o->rank++] = x->d[i];
    else if (s->keep_dims) o->d[o->rank++] = 1;
  }
  return 1;
}

static void mean_release(void* state) {
  mean_state* s = (mean_state*)state;
  free(s->sums);
  s->sums = NULL;
}

static TfLiteStatus mean_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                 const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  mean_state* s = (mean_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  s->in_zp = x->params.zero_point;
  s->out_zp = out->params.zero_point;
  s->reduce_mask = axis_mask(el_tensor(c, node->inputs[1]), s->in_shape.rank);
  el_quantize_multiplier((double)x->params.scale / (double)out->params.scale, &s->mo, &s->so);
  s->spatial = s->keep_dims && s->in_shape.rank == 4 && s->reduce_mask == 6;
  if (s->spatial) { /* optimized_integer_ops::Mean's own float set-up */
    const float n = (float)(s->in_shape.d[1] * s->in_shape.d[2]);
    float temp = (float)s->in_zp * x->params.scale / out->params.scale;
    temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
    s->bias = s->out_zp - (int32_t)temp;
    el_quantize_multiplier((double)(x->params.scale / (n * out->params.scale)), &s->m1, &s->s1);
  }
  mean_release(s);
  s->sums = (int32_t*)malloc(sizeof(int32_t) * (el_shape_elements(&s->out_shape) + 1));
  return s->sums ? kTfLiteOk : kTfLiteError;
}

/* sums[b][c] over the H x W pixels of each image, pixel by pixel so the channel loop vectorizes (int8 -> int32
 * widening adds); integer sums, so the order changes nothing. MobileNetV2's global pooling took 20 instructions
 * per element through the generic index walk below. */
static void sum_over_pixels(const int8_t* x, int B, int HW, int C, int32_t* sums) {
  for (int b = 0; b < B; b++) {
    int32_t* restrict acc = sums + (size_t)b * C;
    memset(acc, 0, sizeof(int32_t) * (size_t)C);
    for (int p = 0; p < HW; p++) {
      const int8_t* restrict xp = x + ((size_t)b * HW + p) * C;
      for (int ch = 0; ch < C; ch++) acc[ch] += xp[ch];
    }
  }
}

/* keep_dims MEAN over H, W (TFLite's optimized_integer_ops::Mean, one thread): raw sums, then TFLite's
 * 16-channel vector path (NEON semantics, also on x86 through NEON_2_SSE: el_requantize_gemm) for whole
 * blocks of 16 channels and its scalar tail (el_requantize) for the rest; + bias; clamp. */
static void mean_spatial(const mean_state* s, const int8_t* x, int8_t* y) {
  const int B = s->in_shape.d[0], H = s->in_shape.d[1], W = s->in_shape.d[2], C = s->in_shape.d[3];
  const int vec_end = C / 16 * 16;
  sum_over_pixels(x, B, H * W, C, s->sums);
  for (int b = 0; b < B; b++) {
    for (int ch = 0; ch < C; ch++) {
      int32_t acc = s->sums[(size_t)b * C + ch];
      acc = ch < vec_end ? el_requantize_gemm(acc, s->m1, s->s1) : el_requantize(acc, s->m1, s->s1);
      y[(size_t)b * C + ch] = (int8_t)el_clamp(acc + s->bias, -128, 127);
    }
  }
}

static void mean_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const mean_state* s = (const mean_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  if (s->spatial) {
    mean_spatial(s, x, y);
    return;
  }
  const el_shape* is = &s->in_shape;
  const size_t n_out = el_shape_elements(&s->out_shape);
  int32_t* sums = s->sums;
  memset(sums, 0, sizeof(int32_t) * n_out);
  /* output strides over the kept axes */
  size_t ostride[EL_MAX_DIMS];
  size_t st = 1;
  int64_t count = 1;
  for (int i = is->rank - 1; i >= 0; i--) {
    if (s->reduce_mask & (1 << i)) {
      ostride[i] = 0;
      count *= is->d[i];
    } else {
      ostride[i] = st;
      st *= (size_t)is->d[i];
    }
  }
  if (is->rank == 4 && s->reduce_mask == 6) { /* over H and W (global pooling without keep_dims) */
    sum_over_pixels(x, is->d[0], is->d[1] * is->d[2], is->d[3], sums);
  } else {
    const size_t n_in = el_shape_elements(is);
    int idx[EL_MAX_DIMS] = {0};
    size_t o = 0;
    for (size_t i = 0; i < n_in; i++) {
      sums[o] += x[i];
      for (int d = is->rank - 1; d >= 0; d--) {
        idx[d]++;
        o += ostride[d];
        if (idx[d] < is->d[d]) break;
        o -= ostride[d] * (size_t)idx[d];
        idx[d] = 0;
      }
    }
  }
  /* reference_ops::QuantizedMeanOrSum: fold 1/count into the multiplier */
  int32_t mult = s->mo, shift = s->so;
  int sh = 63 - __builtin_clzll((unsigned long long)count);
  sh = sh < 32 ? sh : 32;
  sh = sh < 31 + shift ? sh : 31 + shift;
  mult = (int32_t)(((int64_t)mult << sh) / count);
  shift = shift - sh;
  for (size_t k = 0; k < n_out; k++) {
    const int32_t shifted = (int32_t)((int64_t)sums[k] - (int64_t)s->in_zp * count);
    const int32_t v = el_requantize(shifted, mult, shift) + s->out_zp;
    y[k] = (int8_t)el_clamp(v, -128, 127);
  }
}

const el_op_def el_op_mean = {kTfLiteBuiltinMean, "MEAN", sizeof(mean_state), mean_check, mean_init,
                              mean_output_shape, mean_prepare, mean_invoke, mean_release};
