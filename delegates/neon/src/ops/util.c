/* Helpers the op families share (see util.h). */
#include "util.h"

#include <math.h>
#include <string.h>

#include "../requantize.h"

const TfLiteAffineQuantization* el_affine(const TfLiteTensor* t) {
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == NULL) return NULL;
  const TfLiteAffineQuantization* q = (const TfLiteAffineQuantization*)t->quantization.params;
  /* ai-edge-litert 1.4 keeps a single zero point for per-channel weights (all zero); others keep one each */
  if (q->scale == NULL || q->zero_point == NULL || q->scale->size < 1 ||
      (q->zero_point->size != 1 && q->scale->size != q->zero_point->size))
    return NULL;
  return q;
}

int el_is_q8(const TfLiteTensor* t) {
  if (t == NULL || t->type != kTfLiteInt8 || t->dims == NULL || t->dims->size > 4) return 0;
  if (t->allocation_type == kTfLiteDynamic) return 0;
  const TfLiteAffineQuantization* q = el_affine(t);
  if (q == NULL || q->scale->size != 1 || !(q->scale->data[0] > 0.0f)) return 0;
  return q->zero_point->data[0] >= -128 && q->zero_point->data[0] <= 127;
}

int el_is_const(const TfLiteTensor* t) {
  return t != NULL && t->data.raw != NULL &&
         (t->allocation_type == kTfLiteMmapRo || t->allocation_type == kTfLitePersistentRo);
}

int el_same_quant(const TfLiteTensor* a, const TfLiteTensor* b) {
  return a->params.scale == b->params.scale && a->params.zero_point == b->params.zero_point;
}

int el_is_i32_vector(const TfLiteTensor* t) {
  return t != NULL && t->type == kTfLiteInt32 && t->dims != NULL && t->dims->size <= 1 &&
         t->allocation_type != kTfLiteDynamic;
}

el_shape el_tensor_shape(const TfLiteTensor* t) {
  el_shape s;
  memset(&s, 0, sizeof s);
  s.rank = t->dims->size;
  for (int i = 0; i < s.rank && i < EL_MAX_DIMS; i++) s.d[i] = t->dims->data[i];
  return s;
}

size_t el_shape_elements(const el_shape* s) {
  size_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= (size_t)s->d[i];
  return n;
}

int el_act_ok(int a) {
  return a == kTfLiteActNone || a == kTfLiteActRelu || a == kTfLiteActRelu6 || a == kTfLiteActReluN1To1;
}

void el_act_range(int act, const TfLiteTensor* out, int32_t* lo, int32_t* hi) {
  const float scale = out->params.scale;
  const int32_t zp = out->params.zero_point;
#define QF(f) (zp + (int32_t)roundf((f) / scale))
  int32_t mn = -128, mx = 127;
  if (act == kTfLiteActRelu) {
    mn = mn > QF(0.0f) ? mn : QF(0.0f);
  } else if (act == kTfLiteActRelu6) {
    mn = mn > QF(0.0f) ? mn : QF(0.0f);
    mx = mx < QF(6.0f) ? mx : QF(6.0f);
  } else if (act == kTfLiteActReluN1To1) {
    mn = mn > QF(-1.0f) ? mn : QF(-1.0f);
    mx = mx < QF(1.0f) ? mx : QF(1.0f);
  }
#undef QF
  *lo = mn;
  *hi = mx;
}

int el_out_size(int padding, int in, int filter, int stride, int dilation) {
  const int eff = (filter - 1) * dilation + 1;
  if (padding == kTfLitePaddingSame) return (in + stride - 1) / stride;
  return (in + stride - eff) / stride;
}

int el_pad_before(int stride, int dilation, int in, int filter, int out) {
  const int eff = (filter - 1) * dilation + 1;
  int total = (out - 1) * stride + eff - in;
  total = total > 0 ? total : 0;
  return total / 2;
}

const char* el_filter_problem(const TfLiteTensor* f, int channels, int qdim) {
  const TfLiteAffineQuantization* q = el_affine(f);
  if (q == NULL) return "weights without affine quantization";
  if (q->scale->size != 1 && q->scale->size != channels) return "weights: scale count is not 1 or the channel count";
  if (q->scale->size != 1 && q->quantized_dimension != qdim) return "weights quantized along an unexpected dimension";
  for (int i = 0; i < q->zero_point->size; i++)
    if (q->zero_point->data[i] != 0) return "weights with a non-zero zero point";
  for (int i = 0; i < q->scale->size; i++)
    if (!(q->scale->data[i] > 0.0f)) return "weights with a non-positive scale";
  return NULL;
}

int el_bias_ok(const TfLiteTensor* b, int channels) {
  if (b == NULL) return 1;
  return b->type == kTfLiteInt32 && el_is_const(b) && b->dims != NULL && b->dims->size == 1 &&
         b->dims->data[0] == channels;
}

void el_conv_multipliers(const TfLiteTensor* x, const TfLiteTensor* f, const TfLiteTensor* out, int channels,
                         int32_t* multiplier, int32_t* shift) {
  const TfLiteAffineQuantization* fq = el_affine(f);
  for (int ch = 0; ch < channels; ch++) {
    const float fs = fq->scale->data[fq->scale->size == 1 ? 0 : ch];
    el_quantize_multiplier((double)x->params.scale * (double)fs / (double)out->params.scale, &multiplier[ch],
                           &shift[ch]);
  }
}

int el_weighted_tensors(TfLiteContext* c, const TfLiteNode* node, int act_rank, int weight_rank, el_weighted* t,
                        const char** why) {
  const TfLiteIntArray* in = node->inputs;
  if (in->size < 2 || in->size > 3) EL_NO("unexpected inputs");
  t->x = el_tensor(c, in->data[0]);
  t->f = el_tensor(c, in->data[1]);
  t->b = in->size == 3 ? el_tensor(c, in->data[2]) : NULL;
  t->out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(t->x) || !el_is_q8(t->out)) EL_NO("activations are not int8 with per-tensor quantization");
  if (act_rank != 0 && (t->x->dims->size != act_rank || t->out->dims->size != act_rank)) EL_NO("not 4-D");
  if (t->f == NULL || t->f->type != kTfLiteInt8 || !el_is_const(t->f) || t->f->dims->size != weight_rank)
    EL_NO("weights not constant int8");
  return 1;
}

int el_window_ok(int padding, int stride_w, int stride_h, int dilation_w, int dilation_h, int activation,
                 const el_weighted* t, const char** why) {
  if (padding != kTfLitePaddingSame && padding != kTfLitePaddingValid) EL_NO("unknown padding");
  if (stride_w < 1 || stride_h < 1 || dilation_w < 1 || dilation_h < 1) EL_NO("bad stride or dilation");
  if (!el_act_ok(activation)) EL_NO("fused activation not none/RELU/RELU6/RELU_N1_TO_1");
  const int* xd = t->x->dims->data;
  const int* od = t->out->dims->data;
  const int kh = t->f->dims->data[1], kw = t->f->dims->data[2];
  if (od[0] != xd[0] || od[1] != el_out_size(padding, xd[1], kh, stride_h, dilation_h) ||
      od[2] != el_out_size(padding, xd[2], kw, stride_w, dilation_w))
    EL_NO("output shape does not match options");
  return 1;
}
