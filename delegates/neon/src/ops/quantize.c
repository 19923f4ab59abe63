/* QUANTIZE and DEQUANTIZE as LiteRT 2.3's optimized kernels compute them, body and tail:
 *  - QUANTIZE int8 -> int8 (optimized_ops::Requantize): the first 16 * floor(n / 16) elements take a vector
 *    body that rescales like NEON (SQRDMULH, then a rounding shift), the rest gemmlowp's double rounding;
 *    the multiplier from double(si) / double(so). Two tables, one per path.
 *  - QUANTIZE float32 -> int8 (optimized_ops::AffineQuantize): a vector body of 8 multiplies by the float32
 *    reciprocal of the scale and rounds half to even; the tail divides in double and rounds half away.
 *  - DEQUANTIZE int8 -> float32 (optimized_ops::Dequantize): a vector body of 8 computes q * s + (-zp * s)
 *    in float32 (multiply, then add); the tail float(double(s) * (q - zp)). Two tables of floats.
 * Out-of-range floats convert as each CPU's instruction does (NEON saturates, SSE gives INT32_MIN), as the
 * runtime on that CPU does. */
#include <math.h>

#include "../requantize.h"
#include "lut.h"
#include "util.h"

typedef struct quantize_state {
  size_t n, body; /* elements; how many the vector body takes */
  int from_float;
  float recip;  /* float input: 1 / scale in float32 */
  double scale; /* float input: the tail's divisor */
  int32_t zo;
  int8_t body_lut[256], tail_lut[256]; /* int8 input */
} quantize_state;

typedef struct dequantize_state {
  size_t n, body;
  float body_lut[256], tail_lut[256];
} dequantize_state;

static int is_f32(const TfLiteTensor* t) {
  return t != NULL && t->type == kTfLiteFloat32 && t->dims != NULL && t->dims->size <= 4 &&
         t->allocation_type != kTfLiteDynamic;
}

static size_t elements(const TfLiteTensor* t) {
  const el_shape s = el_tensor_shape(t);
  return el_shape_elements(&s);
}

/* float -> int32 as the vector body's conversion does (vcvtnq_s32_f32 / _mm_cvtps_epi32), ties to even */
static int32_t convert_nearest(float v) {
#if defined(__aarch64__)
  if (v != v) return 0;
  if (v >= 2147483648.0f) return INT32_MAX;
  if (v < -2147483648.0f) return INT32_MIN;
#else
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
#endif
  return (int32_t)nearbyintf(v);
}

/* double -> int32 as the tail's static_cast of round() does (fcvtzs / cvttsd2si) */
static int32_t convert_truncate(double v) {
#if defined(__aarch64__)
  if (v != v) return 0;
  if (v >= 2147483648.0) return INT32_MAX;
  if (v <= -2147483649.0) return INT32_MIN;
#else
  if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
#endif
  return (int32_t)v;
}

static int quantize_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteTensor* x = node->inputs->size == 1 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(y)) EL_NO("output not int8 with per-tensor quantization");
  if (!el_is_q8(x) && !is_f32(x)) EL_NO("input not float32 or per-tensor int8");
  if (elements(x) != elements(y)) EL_NO("sizes differ");
  return 1;
}

static TfLiteStatus quantize_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                     const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  quantize_state* s = (quantize_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->output);
  s->n = el_shape_elements(&ins[0]);
  s->zo = y->params.zero_point;
  s->from_float = x->type == kTfLiteFloat32;
  if (s->from_float) {
    s->body = s->n / 8 * 8;
    s->recip = 1.0f / y->params.scale;
    s->scale = (double)y->params.scale;
    return kTfLiteOk;
  }
  s->body = s->n / 16 * 16;
  int32_t m, e;
  el_quantize_multiplier((double)x->params.scale / (double)y->params.scale, &m, &e);
  for (int32_t v = -128; v <= 127; v++) {
    const int32_t d = v - x->params.zero_point;
    s->body_lut[(uint8_t)(int8_t)v] = (int8_t)el_clamp(el_requantize_gemm(d, m, e) + s->zo, -128, 127);
    s->tail_lut[(uint8_t)(int8_t)v] = (int8_t)el_clamp(el_requantize(d, m, e) + s->zo, -128, 127);
  }
  return kTfLiteOk;
}

static void quantize_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const quantize_state* s = (const quantize_state*)node->state;
  int8_t* y = el_data(io, node->output);
  size_t i = 0;
  if (s->from_float) {
    const float* x = (const float*)(const void*)el_data(io, node->inputs[0]);
    for (; i < s->body; i++) {
      const int32_t q = convert_nearest(x[i] * s->recip);
      y[i] = (int8_t)el_clamp((int32_t)((uint32_t)q + (uint32_t)s->zo), -128, 127);
    }
    for (; i < s->n; i++) {
      const int32_t q = convert_truncate(round((double)x[i] / s->scale));
      y[i] = (int8_t)el_clamp((int32_t)((uint32_t)q + (uint32_t)s->zo), -128, 127);
    }
    return;
  }
  const int8_t* x = el_data(io, node->inputs[0]);
  for (; i < s->body; i++) y[i] = s->body_lut[(uint8_t)x[i]];
  for (; i < s->n; i++) y[i] = s->tail_lut[(uint8_t)x[i]];
}

const el_op_def el_op_quantize = {kTfLiteBuiltinQuantize, "QUANTIZE", sizeof(quantize_state), quantize_check, NULL,
                                  el_same_shape, quantize_prepare, quantize_invoke, NULL};

static int dequantize_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteTensor* x = node->inputs->size == 1 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x)) EL_NO("input not int8 with per-tensor quantization");
  if (!is_f32(y)) EL_NO("output not float32");
  if (elements(x) != elements(y)) EL_NO("sizes differ");
  return 1;
}

static TfLiteStatus dequantize_prepare(TfLiteContext* c, el_node* node, const el_shape* ins,
                                       const el_shape* out_shape, const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  dequantize_state* s = (dequantize_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  s->n = el_shape_elements(&ins[0]);
  s->body = s->n / 8 * 8;
  const float scale = x->params.scale;
  const int32_t zp = x->params.zero_point;
  const float zero_times_scale = (float)((double)-zp * (double)scale);
  for (int32_t v = -128; v <= 127; v++) {
    s->body_lut[(uint8_t)(int8_t)v] = (float)v * scale + zero_times_scale;
    s->tail_lut[(uint8_t)(int8_t)v] = (float)((double)scale * (double)(v - zp));
  }
  return kTfLiteOk;
}

static void dequantize_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const dequantize_state* s = (const dequantize_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  float* y = (float*)(void*)el_data(io, node->output);
  size_t i = 0;
  for (; i < s->body; i++) y[i] = s->body_lut[(uint8_t)x[i]];
  for (; i < s->n; i++) y[i] = s->tail_lut[(uint8_t)x[i]];
}

const el_op_def el_op_dequantize = {kTfLiteBuiltinDequantize, "DEQUANTIZE", sizeof(dequantize_state),
                                    dequantize_check, NULL, el_same_shape, dequantize_prepare, dequantize_invoke,
                                    NULL};
