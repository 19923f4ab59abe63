/* Standalone int8 activations, each through a 256-entry table (lut.h) holding exactly what LiteRT 2.3's
 * builtin kernel computes for that input value:
 *  - RELU / RELU6 / RELU_N1_TO_1 (QuantizedReluX): zo + MultiplyByQuantizedMultiplier(q - zi, si / so), the
 *    multiplier from the float32 quotient, clamped to roundf(bound / so) + zo;
 *  - LEAKY_RELU (QuantizeLeakyRelu): the identity or the alpha multiplier by the input's sign, both from
 *    float32 arithmetic on the scales;
 *  - TANH, ELU, GELU: LUTPopulate from float math (tanhf, expm1f, erfcf as libm computes them; the build
 *    keeps float steps unfused, -ffp-contract=off);
 *  - RSQRT (RsqrtEvalQuantized): the fixed-point Newton-Raphson of GetInvSqrtQuantizedMultiplierExp.
 * tests/opcatalogue.py sweeps every input value through the kernels' vector bodies and tails. */
#include <math.h>

#include "../requantize.h"
#include "lut.h"
#include "util.h"

static const TfLiteTensor* in0(TfLiteContext* c, const el_node* node) { return el_tensor(c, node->inputs[0]); }
static const TfLiteTensor* out0(TfLiteContext* c, const el_node* node) { return el_tensor(c, node->output); }

static int plain_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  return el_unary_q8_check(c, node, why);
}

/* LEAKY_RELU (alpha) and GELU (approximate) read their options at init */
static int options_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  if (!plain_check(c, node, version, why)) return 0;
  if (node->builtin_data == NULL) EL_NO("no options");
  return 1;
}

/* ---- RELU, RELU6, RELU_N1_TO_1 ---- */

static TfLiteStatus relu_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                 const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  el_lut_state* s = (el_lut_state*)node->state;
  const TfLiteTensor* x = in0(c, node);
  const TfLiteTensor* y = out0(c, node);
  s->n = el_shape_elements(&ins[0]);
  const float lo = node->code == kTfLiteBuiltinReluN1To1 ? -1.0f : 0.0f;
  const float hi = node->code == kTfLiteBuiltinRelu6 ? 6.0f : 1.0f;
  const float so = y->params.scale;
  const int32_t zi = x->params.zero_point, zo = y->params.zero_point;
  const int32_t qmin = el_clamp(zo + (int32_t)roundf(lo / so), -128, INT32_MAX);
  const int32_t qmax = node->code == kTfLiteBuiltinRelu ? 127 : el_clamp(zo + (int32_t)roundf(hi / so), INT32_MIN, 127);
  int32_t m, e;
  el_quantize_multiplier((double)(x->params.scale / so), &m, &e);
  for (int32_t v = -128; v <= 127; v++)
    s->lut[(uint8_t)(int8_t)v] = (int8_t)el_clamp(zo + el_requantize(v - zi, m, e), qmin, qmax);
  return kTfLiteOk;
}

const el_op_def el_op_relu = {kTfLiteBuiltinRelu, "RELU", sizeof(el_lut_state), plain_check, NULL, el_same_shape,
                              relu_prepare, el_lut_invoke, NULL};
const el_op_def el_op_relu6 = {kTfLiteBuiltinRelu6, "RELU6", sizeof(el_lut_state), plain_check, NULL,
                               el_same_shape, relu_prepare, el_lut_invoke, NULL};
const el_op_def el_op_relu_n1_to_1 = {kTfLiteBuiltinReluN1To1, "RELU_N1_TO_1", sizeof(el_lut_state), plain_check,
                                      NULL, el_same_shape, relu_prepare, el_lut_invoke, NULL};

/* ---- LEAKY_RELU ---- */

typedef struct leaky_state {
  el_lut_state lut; /* first: el_lut_invoke reads it */
  float alpha;
} leaky_state;

static void leaky_init(void* state, const TfLiteNode* node) {
  ((leaky_state*)state)->alpha = ((const TfLiteLeakyReluParams*)node->builtin_data)->alpha;
}

static TfLiteStatus leaky_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  leaky_state* s = (leaky_state*)node->state;
  const TfLiteTensor* x = in0(c, node);
  const TfLiteTensor* y = out0(c, node);
  s->lut.n = el_shape_elements(&ins[0]);
  const float si = x->params.scale, so = y->params.scale;
  int32_t ma, ea, mi, ei;
  el_quantize_multiplier((double)(si * s->alpha / so), &ma, &ea);
  el_quantize_multiplier((double)(si / so), &mi, &ei);
  for (int32_t v = -128; v <= 127; v++) {
    const int32_t d = v - x->params.zero_point;
    const int32_t r = d >= 0 ? el_requantize(d, mi, ei) : el_requantize(d, ma, ea);
    s->lut.lut[(uint8_t)(int8_t)v] = (int8_t)el_clamp(y->params.zero_point + r, -128, 127);
  }
  return kTfLiteOk;
}

const el_op_def el_op_leaky_relu = {kTfLiteBuiltinLeakyRelu, "LEAKY_RELU", sizeof(leaky_state), options_check,
                                    leaky_init, el_same_shape, leaky_prepare, el_lut_invoke, NULL};

/* ---- TANH, ELU, GELU (LUTPopulate) ---- */

typedef struct float_lut_state {
  el_lut_state lut; /* first: el_lut_invoke reads it */
  int approximate;  /* GELU */
} float_lut_state;

static float elu_transform(float v) { return v < 0.0f ? expm1f(v) : v; }

/* reference_ops::GeluTransform: 0.5 x erfc(-x / sqrt(2)), the erfc form */
static float gelu_exact(float x) { return 0.5f * x * erfcf(x * (float)-M_SQRT1_2); }

/* reference_ops::GeluTransformApproximate: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) */
static float gelu_approximate(float x) {
  const float k = (float)(M_2_SQRTPI * M_SQRT1_2);
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

static void gelu_init(void* state, const TfLiteNode* node) {
  ((float_lut_state*)state)->approximate = ((const TfLiteGeluParams*)node->builtin_data)->approximate;
}

static TfLiteStatus float_lut_prepare(TfLiteContext* c, el_node* node, const el_shape* ins,
                                      const el_shape* out_shape, const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  float_lut_state* s = (float_lut_state*)node->state;
  const TfLiteTensor* x = in0(c, node);
  const TfLiteTensor* y = out0(c, node);
  s->lut.n = el_shape_elements(&ins[0]);
  float (*f)(float) = node->code == kTfLiteBuiltinTanh  ? tanhf
                      : node->code == kTfLiteBuiltinElu ? elu_transform
                      : s->approximate                  ? gelu_approximate
                                                        : gelu_exact;
  el_lut_populate(s->lut.lut, x->params.scale, x->params.zero_point, y->params.scale, y->params.zero_point, f);
  return kTfLiteOk;
}

const el_op_def el_op_tanh = {kTfLiteBuiltinTanh, "TANH", sizeof(float_lut_state), plain_check, NULL,
                              el_same_shape, float_lut_prepare, el_lut_invoke, NULL};
const el_op_def el_op_elu = {kTfLiteBuiltinElu, "ELU", sizeof(float_lut_state), plain_check, NULL, el_same_shape,
                             float_lut_prepare, el_lut_invoke, NULL};
const el_op_def el_op_gelu = {kTfLiteBuiltinGelu, "GELU", sizeof(float_lut_state), options_check, gelu_init,
                              el_same_shape, float_lut_prepare, el_lut_invoke, NULL};

/* ---- RSQRT ---- */

/* gemmlowp's fixed-point primitives on int32 raw values */
static int32_t sat_shift_left(int32_t x, int e) {
  const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - e)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* GetInvSqrtQuantizedMultiplierExp(value, kReverseShift): 1/sqrt(value) as a multiplier and left shift */
static void inv_sqrt_multiplier_exp(int32_t value, int32_t* multiplier, int32_t* shift) {
  if (value <= 1) {
    *multiplier = INT32_MAX;
    *shift = 0;
    return;
  }
  int s = 11;
  while (value >= (1 << 29)) {
    value /= 4;
    ++s;
  }
  const int pairs = (__builtin_clz((uint32_t)value) - 1) / 2 - 1;
  s -= pairs;
  value = (int32_t)((uint32_t)value << (2 * pairs));
  const int32_t half_input = el_rounding_divide_by_pot(value >> 1, 1); /* F3, halved */
  const int32_t half_three = (1 << 28) + (1 << 27);                     /* F3 1.5 */
  int32_t x = 1 << 28;                                                   /* F3 1.0 */
  for (int i = 0; i < 5; i++) {
    const int32_t x3 = sat_shift_left(el_srdhm(el_srdhm(x, x), x), 6);
    const int32_t diff = (int32_t)((uint32_t)el_srdhm(half_three, x) - (uint32_t)el_srdhm(half_input, x3));
    x = sat_shift_left(diff, 3);
  }
  x = el_srdhm(x, 1518500250); /* sqrt(2) / 2 */
  if (s < 0) {
    x = (int32_t)((uint32_t)x << -s);
    s = 0;
  }
  *multiplier = x;
  *shift = -s;
}

static int rsqrt_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  if (!plain_check(c, node, version, why)) return 0;
  if (el_tensor(c, node->inputs->data[0])->params.zero_point != -128)
    EL_NO("input zero point above -128: inputs below it make the builtin kernel fail at run time");
  return 1;
}

static TfLiteStatus rsqrt_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  el_lut_state* s = (el_lut_state*)node->state;
  const TfLiteTensor* x = in0(c, node);
  const TfLiteTensor* y = out0(c, node);
  s->n = el_shape_elements(&ins[0]);
  int32_t m, e;
  el_quantize_multiplier(1.0 / (double)(sqrtf(x->params.scale) * y->params.scale), &m, &e);
  enum { SHIFT = 20 }; /* kShift: keeps the intermediate an integer */
  for (int32_t v = -128; v <= 127; v++) {
    const int32_t d = v - x->params.zero_point; /* >= 0: the check requires zero point -128 */
    int32_t q = 127;                             /* "any value close to 0 represents the max output value" */
    if (d != 0) {
      int32_t im, ie;
      inv_sqrt_multiplier_exp(d, &im, &ie);
      const int32_t data = el_requantize(1, im, ie + SHIFT);
      q = el_clamp(el_requantize(data, m, e - SHIFT) + y->params.zero_point, -128, 127);
    }
    s->lut[(uint8_t)(int8_t)v] = (int8_t)q;
  }
  return kTfLiteOk;
}

const el_op_def el_op_rsqrt = {kTfLiteBuiltinRsqrt, "RSQRT", sizeof(el_lut_state), rsqrt_check, NULL,
                               el_same_shape, rsqrt_prepare, el_lut_invoke, NULL};
