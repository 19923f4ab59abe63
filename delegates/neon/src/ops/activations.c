/* Activations: SOFTMAX (LiteRT's float exp table), LOGISTIC (a 256-entry table built like LiteRT's),
 * HARD_SWISH (reference_ops::HardSwish's int16 fixed point), PRELU (reference_ops::Prelu and its 4-D
 * broadcast). The table-driven standalone activations are in unary.c. */
#include <math.h>
#include <string.h>

#include "../requantize.h"
#include "broadcast.h"
#include "lut.h"
#include "util.h"

static int same_size_q8(TfLiteContext* c, const TfLiteNode* node, const char** why) {
  const TfLiteTensor* x = node->inputs->size > 0 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(out)) EL_NO("not int8");
  const el_shape xs = el_tensor_shape(x), os = el_tensor_shape(out);
  if (xs.rank < 1 || el_shape_elements(&xs) != el_shape_elements(&os)) EL_NO("unexpected shapes");
  return 1;
}

static int same_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o, const char** why) {
  (void)c;
  (void)node;
  (void)why;
  *o = ins[0];
  return 1;
}

/* ---- SOFTMAX ---- */

typedef struct softmax_state {
  float beta;
  el_shape shape;
  int32_t out_zp;
  float out_scale;
  float table[256]; /* exp(-input_scale * beta * (255 - i)) */
} softmax_state;

static int softmax_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (!same_size_q8(c, node, why)) return 0;
  if (el_tensor(c, node->outputs->data[0])->params.zero_point != -128) EL_NO("output zero point not -128");
  if (node->builtin_data == NULL) EL_NO("no options");
  return 1;
}

static void softmax_init(void* state, const TfLiteNode* node) {
  ((softmax_state*)state)->beta = ((const TfLiteSoftmaxParams*)node->builtin_data)->beta;
}

static TfLiteStatus softmax_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                    const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  softmax_state* s = (softmax_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->shape = ins[0];
  s->out_zp = out->params.zero_point;
  s->out_scale = out->params.scale;
  const float scale = -x->params.scale * s->beta;
  for (int32_t v = 0; v <= 255; v++) s->table[255 - v] = expf(scale * (float)v);
  return kTfLiteOk;
}

static void softmax_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const softmax_state* s = (const softmax_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const int last = s->shape.d[s->shape.rank - 1];
  const size_t outer = el_shape_elements(&s->shape) / (size_t)last;
  for (size_t i = 0; i < outer; i++) {
    const int8_t* xr = x + i * (size_t)last;
    int8_t* yr = y + i * (size_t)last;
    int32_t mx = -128;
    for (int j = 0; j < last; j++) mx = xr[j] > mx ? xr[j] : mx;
    const float* tab = &s->table[255 - mx];
    float sum = 0.0f;
    for (int j = 0; j < last; j++) sum += tab[xr[j]];
    const float inv = 1.0f / (sum * s->out_scale);
    for (int j = 0; j < last; j++) {
      const int32_t q = (int32_t)roundf(tab[xr[j]] * inv) + s->out_zp;
      yr[j] = (int8_t)el_clamp(q, -128, 127);
    }
  }
}

const el_op_def el_op_softmax = {kTfLiteBuiltinSoftmax, "SOFTMAX", sizeof(softmax_state), softmax_check,
                                 softmax_init, same_shape, softmax_prepare, softmax_invoke, NULL};

/* ---- LOGISTIC ---- */

static int logistic_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  return same_size_q8(c, node, why);
}

static float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

static TfLiteStatus logistic_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                     const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  el_lut_state* s = (el_lut_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->n = el_shape_elements(&ins[0]);
  el_lut_populate(s->lut, x->params.scale, x->params.zero_point, out->params.scale, out->params.zero_point,
                  sigmoidf);
  return kTfLiteOk;
}

const el_op_def el_op_logistic = {kTfLiteBuiltinLogistic, "LOGISTIC", sizeof(el_lut_state), logistic_check, NULL,
                                  same_shape, logistic_prepare, el_lut_invoke, NULL};

/* ---- HARD_SWISH ---- */
/* The builtin's int16 fixed-point arithmetic depends on the input value alone (the same at every element, body
 * or tail), so prepare runs it once per int8 value into a table and invoke looks values up (lut.h). */

typedef struct hard_swish_params {
  int32_t in_zp, out_zp;
  int16_t out_mult, relu_mult;
  int32_t out_exp, relu_exp;
} hard_swish_params;

static void downscale_to_int16(int32_t m32, int16_t* m16) {
  if (m32 >= INT32_MAX - (1 << 15)) {
    *m16 = INT16_MAX;
    return;
  }
  *m16 = (int16_t)((m32 + (1 << 15)) >> 16);
}

static int hard_swish_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (!same_size_q8(c, node, why)) return 0;
  /* TFLite requires a non-positive output exponent; anything else is refused by the runtime too */
  const float hires = (1.0f / 128.0f) * el_tensor(c, node->inputs->data[0])->params.scale;
  int32_t m, e;
  el_quantize_multiplier((double)(hires / el_tensor(c, node->outputs->data[0])->params.scale), &m, &e);
  if (e > 0) EL_NO("output multiplier exponent > 0");
  return 1;
}

static int16_t sat16(int32_t v) { return (int16_t)el_clamp(v, INT16_MIN, INT16_MAX); }

static int16_t srdhm16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  const int32_t ab = (int32_t)a * b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (int16_t)((ab + nudge) / (1 << 15));
}

static int16_t sdhm16(int16_t a, int16_t b) {
  if (a == b && a == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * b) / (1 << 15));
}

static int16_t rdbpot16(int16_t x, int e) {
  const int16_t mask = (int16_t)((1 << e) - 1);
  const int16_t rem = (int16_t)(x & mask);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> e) + (rem > threshold ? 1 : 0));
}

static int8_t hard_swish_one(int8_t x, const hard_swish_params* s) {
  const int16_t v = (int16_t)(x - s->in_zp);
  const int16_t hires = (int16_t)(v * (1 << 7));
  const int16_t preshift = srdhm16(hires, s->out_mult);
  int16_t reluish = hires;
  if (s->relu_exp > 0) reluish = sat16((int32_t)reluish * (1 << (s->relu_exp - 1)));
  reluish = srdhm16(reluish, s->relu_mult);
  if (s->relu_exp > 0) reluish = sat16((int32_t)reluish * 2);
  if (s->relu_exp < 0) reluish = rdbpot16(reluish, -s->relu_exp);
  reluish = (int16_t)((reluish + (1 << 15)) >> 1);
  const int16_t pre_out = sdhm16(reluish, preshift);
  const int32_t o = rdbpot16(pre_out, -s->out_exp) + s->out_zp;
  return (int8_t)el_clamp(o, -128, 127);
}

static TfLiteStatus hard_swish_prepare(TfLiteContext* c, el_node* node, const el_shape* ins,
                                       const el_shape* out_shape, const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  el_lut_state* lut = (el_lut_state*)node->state;
  hard_swish_params params, *s = &params;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  lut->n = el_shape_elements(&ins[0]);
  s->in_zp = x->params.zero_point;
  s->out_zp = out->params.zero_point;
  const float hires = (1.0f / 128.0f) * x->params.scale;
  const float reluish_scale = 3.0f / 32768.0f;
  int32_t m32;
  el_quantize_multiplier((double)(hires / out->params.scale), &m32, &s->out_exp);
  downscale_to_int16(m32, &s->out_mult);
  el_quantize_multiplier((double)(hires / reluish_scale), &m32, &s->relu_exp);
  downscale_to_int16(m32, &s->relu_mult);
  for (int v = -128; v <= 127; v++) lut->lut[(uint8_t)(int8_t)v] = hard_swish_one((int8_t)v, s);
  return kTfLiteOk;
}

const el_op_def el_op_hard_swish = {kTfLiteBuiltinHardSwish, "HARD_SWISH", sizeof(el_lut_state), hard_swish_check,
                                    NULL, same_shape, hard_swish_prepare, el_lut_invoke, NULL};

/* ---- PRELU ---- */

typedef struct prelu_state {
  el_shape out_shape;
  size_t alpha_strides[EL_MAX_DIMS]; /* per output dimension; 0 where alpha broadcasts */
  int32_t zi, za, zo;
  int32_t m1, e1, m2, e2;
} prelu_state;

static int prelu_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* a = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(a) || !el_is_q8(out)) EL_NO("not int8 with per-tensor quantization");
  const int r = x->dims->size;
  if (out->dims->size != r || a->dims->size > r) EL_NO("unexpected shapes");
  for (int i = 0; i < r; i++) {
    const int ai = i - (r - a->dims->size);
    const int ad = ai >= 0 ? a->dims->data[ai] : 1;
    if (out->dims->data[i] != x->dims->data[i] || (ad != 1 && ad != x->dims->data[i]))
      EL_NO("alpha does not broadcast to the input");
  }
  return 1;
}

static int prelu_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  (void)c;
  (void)node;
  const int r = ins[0].rank;
  if (ins[1].rank > r) EL_NO("alpha has more dimensions than the input");
  for (int i = 0; i < r; i++) {
    const int ai = i - (r - ins[1].rank);
    const int ad = ai >= 0 ? ins[1].d[ai] : 1;
    if (ad != 1 && ad != ins[0].d[i]) EL_NO("alpha does not broadcast to the input");
  }
  *o = ins[0];
  return 1;
}

static TfLiteStatus prelu_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  prelu_state* s = (prelu_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* a = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* y = el_tensor(c, node->output);
  s->out_shape = *out_shape;
  el_bcast_strides(&ins[1], out_shape, s->alpha_strides);
  s->zi = x->params.zero_point, s->za = a->params.zero_point, s->zo = y->params.zero_point;
  /* PreluPrepare: both multipliers from float32 arithmetic on the scales */
  el_quantize_multiplier((double)(x->params.scale / y->params.scale), &s->m1, &s->e1);
  el_quantize_multiplier((double)(x->params.scale * a->params.scale / y->params.scale), &s->m2, &s->e2);
  return kTfLiteOk;
}

static void prelu_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const prelu_state* s = (const prelu_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  const int8_t* a = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  const int R = s->out_shape.rank;
  const size_t n = el_shape_elements(&s->out_shape);
  int idx[EL_MAX_DIMS] = {0};
  size_t ia = 0;
  for (size_t i = 0; i < n; i++) {
    const int32_t v = x[i] - s->zi;
    const int32_t r = v >= 0 ? el_requantize(v, s->m1, s->e1) : el_requantize(v * (a[ia] - s->za), s->m2, s->e2);
    y[i] = (int8_t)el_clamp(r + s->zo, -128, 127);
    for (int d = R - 1; d >= 0; d--) { /* advance the multi-index */
      idx[d]++;
      ia += s->alpha_strides[d];
      if (idx[d] < s->out_shape.d[d]) break;
      ia -= s->alpha_strides[d] * (size_t)idx[d];
      idx[d] = 0;
    }
  }
}

const el_op_def el_op_prelu = {kTfLiteBuiltinPrelu, "PRELU", sizeof(prelu_state), prelu_check, NULL,
                               prelu_output_shape, prelu_prepare, prelu_invoke, NULL};
