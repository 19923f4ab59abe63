/* Op implementations with TFLite's exact int8 arithmetic (plain C; the GEMM goes through qs8_gemm.h). */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../requantize.h"

/* ---------------------------------------------------------------------------------------------------- */
/* tensor helpers                                                                                       */

static const TfLiteTensor* T(TfLiteContext* c, int idx) { return idx >= 0 ? &c->tensors[idx] : NULL; }

static const TfLiteAffineQuantization* affine(const TfLiteTensor* t) {
  if (t->quantization.type != kTfLiteAffineQuantization || t->quantization.params == NULL) return NULL;
  const TfLiteAffineQuantization* q = (const TfLiteAffineQuantization*)t->quantization.params;
  /* ai-edge-litert 1.4 keeps a single zero point for per-channel weights (all zero); others keep one each */
  if (q->scale == NULL || q->zero_point == NULL || q->scale->size < 1 ||
      (q->zero_point->size != 1 && q->scale->size != q->zero_point->size))
    return NULL;
  return q;
}

/* int8 activation tensor, per-tensor affine quantization, static shape */
static int is_q8(const TfLiteTensor* t) {
  if (t == NULL || t->type != kTfLiteInt8 || t->dims == NULL || t->dims->size > 4) return 0;
  if (t->allocation_type == kTfLiteDynamic) return 0;
  const TfLiteAffineQuantization* q = affine(t);
  if (q == NULL || q->scale->size != 1 || !(q->scale->data[0] > 0.0f)) return 0;
  return q->zero_point->data[0] >= -128 && q->zero_point->data[0] <= 127;
}

static int is_const(const TfLiteTensor* t) {
  return t != NULL && t->data.raw != NULL &&
         (t->allocation_type == kTfLiteMmapRo || t->allocation_type == kTfLitePersistentRo);
}

static int same_quant(const TfLiteTensor* a, const TfLiteTensor* b) {
  return a->params.scale == b->params.scale && a->params.zero_point == b->params.zero_point;
}

static el_shape shape_of(const TfLiteTensor* t) {
  el_shape s;
  memset(&s, 0, sizeof s);
  s.rank = t->dims->size;
  for (int i = 0; i < s.rank && i < EL_MAX_DIMS; i++) s.d[i] = t->dims->data[i];
  return s;
}

static size_t numel(const el_shape* s) {
  size_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= (size_t)s->d[i];
  return n;
}

static int act_ok(int a) {
  return a == kTfLiteActNone || a == kTfLiteActRelu || a == kTfLiteActRelu6 || a == kTfLiteActReluN1To1;
}

/* TFLite's CalculateActivationRangeQuantized for int8 */
static void act_range(int act, const TfLiteTensor* out, int32_t* lo, int32_t* hi) {
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

static int out_size(int padding, int in, int filter, int stride, int dilation) {
  const int eff = (filter - 1) * dilation + 1;
  if (padding == kTfLitePaddingSame) return (in + stride - 1) / stride;
  return (in + stride - eff) / stride;
}

static int pad_before(int stride, int dilation, int in, int filter, int out) {
  const int eff = (filter - 1) * dilation + 1;
  int total = (out - 1) * stride + eff - in;
  total = total > 0 ? total : 0;
  return total / 2;
}

static int is_i32_vector(const TfLiteTensor* t) {
  return t != NULL && t->type == kTfLiteInt32 && t->dims != NULL && t->dims->size <= 1 &&
         t->allocation_type != kTfLiteDynamic;
}

/* STRIDED_SLICE on one axis, TFLite's StartForAxis/StopForAxis: (start, count) */
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

/* ---------------------------------------------------------------------------------------------------- */
/* support checks                                                                                       */

#define NO(reason)   \
  do {               \
    *why = (reason); \
    return 0;        \
  } while (0)

/* NULL when the weights are symmetric int8, per tensor or per channel along `qdim`; else the reason */
static const char* filter_problem(const TfLiteTensor* f, int channels, int qdim) {
  const TfLiteAffineQuantization* q = affine(f);
  if (q == NULL) return "weights without affine quantization";
  if (q->scale->size != 1 && q->scale->size != channels) return "weights: scale count is not 1 or the channel count";
  if (q->scale->size != 1 && q->quantized_dimension != qdim) return "weights quantized along an unexpected dimension";
  for (int i = 0; i < q->zero_point->size; i++)
    if (q->zero_point->data[i] != 0) return "weights with a non-zero zero point";
  for (int i = 0; i < q->scale->size; i++)
    if (!(q->scale->data[i] > 0.0f)) return "weights with a non-positive scale";
  return NULL;
}

static int check_bias(const TfLiteTensor* b, int channels) {
  if (b == NULL) return 1;
  return b->type == kTfLiteInt32 && is_const(b) && b->dims != NULL && b->dims->size == 1 &&
         b->dims->data[0] == channels;
}

int el_op_supported(TfLiteContext* c, const TfLiteNode* node, int code, int version, const char** why) {
  const TfLiteIntArray* in = node->inputs;
  if (node->outputs->size != 1) NO("more than one output");
  const TfLiteTensor* out = T(c, node->outputs->data[0]);
  const TfLiteTensor* x = in->size > 0 ? T(c, in->data[0]) : NULL;
  switch (code) {
    case kTfLiteBuiltinConv2d:
    case kTfLiteBuiltinDepthwiseConv2d: {
      if (in->size < 2 || in->size > 3) NO("unexpected inputs");
      const TfLiteTensor* f = T(c, in->data[1]);
      const TfLiteTensor* b = in->size == 3 ? T(c, in->data[2]) : NULL;
      if (!is_q8(x) || !is_q8(out)) NO("activations are not int8 with per-tensor quantization");
      if (x->dims->size != 4 || out->dims->size != 4) NO("not 4-D");
      if (f == NULL || f->type != kTfLiteInt8 || !is_const(f) || f->dims->size != 4) NO("weights not constant int8");
      if (node->builtin_data == NULL) NO("no options");
      const int oc = out->dims->data[3];
      int pad, sw, sh, dw, dh, act;
      if (code == kTfLiteBuiltinConv2d) {
        const TfLiteConvParams* p = (const TfLiteConvParams*)node->builtin_data;
        pad = p->padding, sw = p->stride_width, sh = p->stride_height, dw = p->dilation_width_factor,
        dh = p->dilation_height_factor, act = p->activation;
        if (f->dims->data[0] != oc || f->dims->data[3] != x->dims->data[3]) NO("grouped convolution");
        if ((*why = filter_problem(f, oc, 0)) != NULL) return 0;
      } else {
        const TfLiteDepthwiseConvParams* p = (const TfLiteDepthwiseConvParams*)node->builtin_data;
        pad = p->padding, sw = p->stride_width, sh = p->stride_height, dw = p->dilation_width_factor,
        dh = p->dilation_height_factor, act = p->activation;
        if (f->dims->data[0] != 1 || f->dims->data[3] != oc) NO("unexpected depthwise filter shape");
        if (oc % x->dims->data[3] != 0) NO("output channels not a multiple of input channels");
        if ((*why = filter_problem(f, oc, 3)) != NULL) return 0;
      }
      if (!check_bias(b, oc)) NO("bias not constant int32");
      if (pad != kTfLitePaddingSame && pad != kTfLitePaddingValid) NO("unknown padding");
      if (sw < 1 || sh < 1 || dw < 1 || dh < 1) NO("bad stride or dilation");
      if (!act_ok(act)) NO("fused activation not none/RELU/RELU6/RELU_N1_TO_1");
      const int kh = f->dims->data[1], kw = f->dims->data[2];
      if (out->dims->data[0] != x->dims->data[0] ||
          out->dims->data[1] != out_size(pad, x->dims->data[1], kh, sh, dh) ||
          out->dims->data[2] != out_size(pad, x->dims->data[2], kw, sw, dw))
        NO("output shape does not match options");
      return 1;
    }
    case kTfLiteBuiltinFullyConnected: {
      if (in->size < 2 || in->size > 3) NO("unexpected inputs");
      const TfLiteTensor* f = T(c, in->data[1]);
      const TfLiteTensor* b = in->size == 3 ? T(c, in->data[2]) : NULL;
      if (!is_q8(x) || !is_q8(out)) NO("activations are not int8 with per-tensor quantization");
      if (f == NULL || f->type != kTfLiteInt8 || !is_const(f) || f->dims->size != 2) NO("weights not constant int8");
      const TfLiteFullyConnectedParams* p = (const TfLiteFullyConnectedParams*)node->builtin_data;
      if (p == NULL || p->weights_format != 0 || !act_ok(p->activation)) NO("unsupported options");
      const int units = f->dims->data[0], k = f->dims->data[1];
      if ((*why = filter_problem(f, units, 0)) != NULL) return 0;
      if (!check_bias(b, units)) NO("bias not constant int32");
      const el_shape xs = shape_of(x), os = shape_of(out);
      if (k <= 0 || numel(&xs) % (size_t)k != 0) NO("input size not a multiple of the weights' depth");
      if (os.d[os.rank - 1] != units || numel(&os) != numel(&xs) / (size_t)k * (size_t)units)
        NO("unexpected output shape");
      return 1;
    }
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinMul: {
      if (in->size != 2) NO("unexpected inputs");
      const TfLiteTensor* y = T(c, in->data[1]);
      if (!is_q8(x) || !is_q8(y) || !is_q8(out)) NO("not int8 with per-tensor quantization");
      const TfLiteAddParams* p = (const TfLiteAddParams*)node->builtin_data;
      if (p == NULL || !act_ok(p->activation)) NO("unsupported fused activation");
      /* broadcasting: right-aligned, each dim equal or 1, output the broadcast shape */
      const int r = out->dims->size;
      if (x->dims->size > r || y->dims->size > r) NO("unexpected output shape");
      for (int i = 0; i < r; i++) {
        const int xo = i - (r - x->dims->size), yo = i - (r - y->dims->size);
        const int xd = xo >= 0 ? x->dims->data[xo] : 1, yd = yo >= 0 ? y->dims->data[yo] : 1;
        const int od = out->dims->data[i];
        if ((xd != od && xd != 1) || (yd != od && yd != 1) || (xd != od && yd != od)) NO("shapes do not broadcast");
      }
      return 1;
    }
    case kTfLiteBuiltinAveragePool2d:
    case kTfLiteBuiltinMaxPool2d: {
      if (!is_q8(x) || !is_q8(out) || x->dims->size != 4 || out->dims->size != 4) NO("not 4-D int8");
      if (!same_quant(x, out)) NO("input and output quantization differ");
      const TfLitePoolParams* p = (const TfLitePoolParams*)node->builtin_data;
      if (p == NULL || !act_ok(p->activation) || p->stride_width < 1 || p->stride_height < 1 ||
          p->filter_width < 1 || p->filter_height < 1)
        NO("unsupported options");
      if (p->padding != kTfLitePaddingSame && p->padding != kTfLitePaddingValid) NO("unknown padding");
      if (out->dims->data[1] != out_size(p->padding, x->dims->data[1], p->filter_height, p->stride_height, 1) ||
          out->dims->data[2] != out_size(p->padding, x->dims->data[2], p->filter_width, p->stride_width, 1) ||
          out->dims->data[3] != x->dims->data[3])
        NO("output shape does not match options");
      return 1;
    }
    case kTfLiteBuiltinMean: {
      if (in->size != 2 || !is_q8(x) || !is_q8(out)) NO("not int8");
      const TfLiteTensor* axis = T(c, in->data[1]);
      if (axis == NULL || axis->type != kTfLiteInt32 || !is_const(axis)) NO("axis not constant int32");
      const TfLiteReducerParams* p = (const TfLiteReducerParams*)node->builtin_data;
      if (p == NULL) NO("no options");
      const int r = x->dims->size;
      int mask = 0, count = 0;
      const el_shape as = shape_of(axis);
      for (size_t i = 0; i < numel(&as); i++) {
        int a = axis->data.i32[i];
        if (a < 0) a += r;
        if (a < 0 || a >= r) NO("axis out of range");
        mask |= 1 << a;
        count++;
      }
      if (count == 0) NO("no axis");
      return 1;
    }
    case kTfLiteBuiltinPad: {
      if (in->size != 2 || !is_q8(x) || !is_q8(out) || !same_quant(x, out)) NO("not int8 with equal quantization");
      const TfLiteTensor* pads = T(c, in->data[1]);
      if (pads == NULL || pads->type != kTfLiteInt32 || !is_const(pads) || pads->dims->size != 2 ||
          pads->dims->data[0] != x->dims->size || pads->dims->data[1] != 2)
        NO("paddings not constant int32 [rank, 2]");
      for (int i = 0; i < x->dims->size; i++) {
        const int a = pads->data.i32[2 * i], b = pads->data.i32[2 * i + 1];
        if (a < 0 || b < 0 || out->dims->data[i] != x->dims->data[i] + a + b) NO("unexpected paddings");
      }
      if (out->dims->size != x->dims->size) NO("unexpected output rank");
      return 1;
    }
    case kTfLiteBuiltinConcatenation: {
      const TfLiteConcatenationParams* p = (const TfLiteConcatenationParams*)node->builtin_data;
      if (p == NULL || p->activation != kTfLiteActNone) NO("fused activation");
      if (!is_q8(out) || in->size < 1 || in->size > EL_MAX_INPUTS) NO("not int8");
      const int r = out->dims->size;
      const int axis = p->axis < 0 ? p->axis + r : p->axis;
      if (axis < 0 || axis >= r) NO("axis out of range");
      int total = 0;
      for (int i = 0; i < in->size; i++) {
        const TfLiteTensor* t = T(c, in->data[i]);
        if (!is_q8(t) || !same_quant(t, out) || t->dims->size != r) NO("inputs not int8 with the output's quantization");
        for (int d = 0; d < r; d++)
          if (d != axis && t->dims->data[d] != out->dims->data[d]) NO("shapes do not match");
        total += t->dims->data[axis];
      }
      if (total != out->dims->data[axis]) NO("shapes do not match");
      return 1;
    }
    case kTfLiteBuiltinSpaceToBatchNd:
    case kTfLiteBuiltinBatchToSpaceNd: {
      /* how TFLite expresses dilated convolutions: pure data movement, claimed so the conv stays inside */
      if (in->size != 3 || !is_q8(x) || !is_q8(out) || !same_quant(x, out)) NO("not int8 with equal quantization");
      if (x->dims->size != 4) NO("not 4-D");
      const TfLiteTensor* block = T(c, in->data[1]);
      const TfLiteTensor* pads = T(c, in->data[2]);
      if (block == NULL || block->type != kTfLiteInt32 || !is_const(block) || block->dims->size != 1 ||
          block->dims->data[0] != 2 || block->data.i32[0] < 1 || block->data.i32[1] < 1)
        NO("block shape not a constant pair");
      if (pads == NULL || pads->type != kTfLiteInt32 || !is_const(pads) || pads->dims->size != 2 ||
          pads->dims->data[0] != 2 || pads->dims->data[1] != 2)
        NO("paddings/crops not a constant 2x2");
      for (int i = 0; i < 4; i++)
        if (pads->data.i32[i] < 0) NO("negative paddings/crops");
      return 1;
    }
    /* int32 shape arithmetic in front of a RESHAPE (Keras' Reshape with a dynamic batch): exact by nature,
     * claimed so whole models stay in one partition */
    case kTfLiteBuiltinShape: {
      if (in->size != 1 || x == NULL || x->dims == NULL || x->dims->size > EL_MAX_DIMS) NO("unexpected input");
      if (!is_i32_vector(out) || out->dims->size != 1 || out->dims->data[0] != x->dims->size) NO("output not int32");
      return 1;
    }
    case kTfLiteBuiltinStridedSlice: {
      if (in->size != 4 || !is_i32_vector(x) || x->dims->size != 1 || !is_i32_vector(out)) NO("not a 1-D int32 slice");
      const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)node->builtin_data;
      if (p == NULL || p->ellipsis_mask != 0 || p->new_axis_mask != 0) NO("ellipsis/new axis masks");
      if ((p->begin_mask | p->end_mask | p->shrink_axis_mask) & ~1) NO("masks beyond axis 0");
      for (int i = 1; i < 4; i++) {
        const TfLiteTensor* t = T(c, in->data[i]);
        if (!is_i32_vector(t) || !is_const(t) || t->dims->size != 1 || t->dims->data[0] != 1) NO("begin/end/strides not constant");
      }
      if (T(c, in->data[3])->data.i32[0] == 0) NO("zero stride");
      if (version >= 5) NO("op version with the offset attribute");
      return 1;
    }
    case kTfLiteBuiltinPack: {
      const TfLitePackParams* p = (const TfLitePackParams*)node->builtin_data;
      if (p == NULL || p->axis != 0 || p->values_count != in->size || in->size > EL_MAX_INPUTS) NO("axis not 0");
      if (out == NULL || out->type != kTfLiteInt32 || out->allocation_type == kTfLiteDynamic) NO("not int32");
      for (int i = 0; i < in->size; i++) {
        const TfLiteTensor* t = T(c, in->data[i]);
        if (t == NULL || t->type != kTfLiteInt32 || t->dims == NULL || t->dims->size != x->dims->size) NO("inputs differ");
        for (int d = 0; d < t->dims->size; d++)
          if (t->dims->data[d] != x->dims->data[d]) NO("inputs differ");
      }
      return 1;
    }
    case kTfLiteBuiltinReshape: {
      if (!is_q8(x) || !is_q8(out) || !same_quant(x, out)) NO("not int8 with equal quantization");
      const el_shape xs = shape_of(x), os = shape_of(out);
      if (numel(&xs) != numel(&os)) NO("sizes differ");
      return 1;
    }
    case kTfLiteBuiltinSoftmax: {
      if (!is_q8(x) || !is_q8(out)) NO("not int8");
      if (out->params.zero_point != -128) NO("output zero point not -128");
      if (node->builtin_data == NULL) NO("no options");
      const el_shape xs = shape_of(x), os = shape_of(out);
      if (xs.rank < 1 || numel(&xs) != numel(&os)) NO("unexpected shapes");
      return 1;
    }
    case kTfLiteBuiltinLogistic:
    case kTfLiteBuiltinHardSwish: {
      if (!is_q8(x) || !is_q8(out)) NO("not int8");
      const el_shape xs = shape_of(x), os = shape_of(out);
      if (numel(&xs) != numel(&os)) NO("unexpected shapes");
      if (code == kTfLiteBuiltinHardSwish) {
        /* TFLite requires a non-positive output exponent; anything else is refused by the runtime too */
        const float hires = (1.0f / 128.0f) * x->params.scale;
        int32_t m, s;
        el_quantize_multiplier((double)(hires / out->params.scale), &m, &s);
        if (s > 0) NO("output multiplier exponent > 0");
      }
      return 1;
    }
    default:
      NO("op not implemented by the NEON delegate");
  }
}

/* ---------------------------------------------------------------------------------------------------- */
/* init / prepare                                                                                       */

void el_op_init(el_op* op, const TfLiteNode* node, int code, int node_index) {
  memset(op, 0, sizeof *op);
  op->code = code;
  op->node_index = node_index;
  op->n_inputs = node->inputs->size;
  for (int i = 0; i < node->inputs->size && i < EL_MAX_INPUTS; i++) op->inputs[i] = node->inputs->data[i];
  op->output = node->outputs->data[0];
  op->dilation_w = op->dilation_h = 1;
  const void* bd = node->builtin_data;
  switch (code) {
    case kTfLiteBuiltinConv2d: {
      const TfLiteConvParams* p = (const TfLiteConvParams*)bd;
      op->padding = p->padding, op->stride_w = p->stride_width, op->stride_h = p->stride_height;
      op->dilation_w = p->dilation_width_factor, op->dilation_h = p->dilation_height_factor;
      op->activation = p->activation;
      break;
    }
    case kTfLiteBuiltinDepthwiseConv2d: {
      const TfLiteDepthwiseConvParams* p = (const TfLiteDepthwiseConvParams*)bd;
      op->padding = p->padding, op->stride_w = p->stride_width, op->stride_h = p->stride_height;
      op->dilation_w = p->dilation_width_factor, op->dilation_h = p->dilation_height_factor;
      op->activation = p->activation;
      break;
    }
    case kTfLiteBuiltinFullyConnected:
      op->activation = ((const TfLiteFullyConnectedParams*)bd)->activation;
      break;
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinMul:
      op->activation = ((const TfLiteAddParams*)bd)->activation;
      break;
    case kTfLiteBuiltinAveragePool2d:
    case kTfLiteBuiltinMaxPool2d: {
      const TfLitePoolParams* p = (const TfLitePoolParams*)bd;
      op->padding = p->padding, op->stride_w = p->stride_width, op->stride_h = p->stride_height;
      op->filter_w = p->filter_width, op->filter_h = p->filter_height, op->activation = p->activation;
      break;
    }
    case kTfLiteBuiltinMean:
      op->keep_dims = ((const TfLiteReducerParams*)bd)->keep_dims;
      break;
    case kTfLiteBuiltinConcatenation:
      op->axis = ((const TfLiteConcatenationParams*)bd)->axis;
      break;
    case kTfLiteBuiltinSoftmax:
      op->beta = ((const TfLiteSoftmaxParams*)bd)->beta;
      break;
    case kTfLiteBuiltinStridedSlice: {
      const TfLiteStridedSliceParams* p = (const TfLiteStridedSliceParams*)bd;
      op->begin_mask = p->begin_mask, op->end_mask = p->end_mask, op->shrink_mask = p->shrink_axis_mask;
      break;
    }
    default:
      break;
  }
}

void el_op_release(el_op* op) {
  free(op->multiplier);
  free(op->shift);
  free(op->bias);
  free(op->weights);
  free(op->packed);
  free(op->sums);
  op->multiplier = op->shift = op->bias = op->sums = NULL;
  op->weights = NULL;
  op->packed = NULL;
}

static void downscale_to_int16(int32_t m32, int16_t* m16) {
  if (m32 >= INT32_MAX - (1 << 15)) {
    *m16 = INT16_MAX;
    return;
  }
  *m16 = (int16_t)((m32 + (1 << 15)) >> 16);
}

static float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }

el_shape el_tensor_shape(const TfLiteTensor* t) { return shape_of(t); }
size_t el_shape_elements(const el_shape* s) { return numel(s); }

TfLiteStatus el_op_prepare(TfLiteContext* c, el_op* op, const el_shape* ins, const el_shape* out_shape,
                           const qs8_gemm_ukernel* gemm, size_t* scratch) {
  /* weights and their multipliers are constant: packed at the first prepare only; shape-dependent state is
   * recomputed at every prepare (the runtime calls it again after a resize) */
  const int weights_ready = op->multiplier != NULL;
  free(op->sums);
  op->sums = NULL;
  const TfLiteTensor* x = T(c, op->inputs[0]);
  const TfLiteTensor* out = T(c, op->output);
  for (int i = 0; i < op->n_inputs && i < EL_MAX_INPUTS; i++) op->in_shapes[i] = ins[i];
  op->in_shape = ins[0];
  op->out_shape = *out_shape;
  op->in_zp = x->params.zero_point;
  op->out_zp = out->params.zero_point;
  if (op->code == kTfLiteBuiltinShape || op->code == kTfLiteBuiltinStridedSlice || op->code == kTfLiteBuiltinPack)
    return kTfLiteOk;
  act_range(op->activation, out, &op->act_min, &op->act_max);
  switch (op->code) {
    case kTfLiteBuiltinConv2d:
    case kTfLiteBuiltinDepthwiseConv2d:
    case kTfLiteBuiltinFullyConnected: {
      const TfLiteTensor* f = T(c, op->inputs[1]);
      const TfLiteTensor* b = op->n_inputs > 2 ? T(c, op->inputs[2]) : NULL;
      const TfLiteAffineQuantization* fq = affine(f);
      const int fc = op->code == kTfLiteBuiltinFullyConnected;
      const int channels = fc ? f->dims->data[0] : op->out_shape.d[3];
      op->n = channels;
      if (!weights_ready) {
        op->multiplier = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
        op->shift = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
        if (!op->multiplier || !op->shift) {
          el_op_release(op);
          return kTfLiteError;
        }
      }
      for (int ch = 0; ch < channels && !weights_ready; ch++) {
        const float fs = fq->scale->data[fq->scale->size == 1 ? 0 : ch];
        double real;
        if (fc && fq->scale->size == 1) { /* GetQuantizedConvolutionMultipler: the scale product in float */
          real = (double)(x->params.scale * fs) / (double)out->params.scale;
        } else { /* PopulateConvolutionQuantizationParams */
          real = (double)x->params.scale * (double)fs / (double)out->params.scale;
        }
        el_quantize_multiplier(real, &op->multiplier[ch], &op->shift[ch]);
      }
      const int32_t* bias = b ? b->data.i32 : NULL;
      if (op->code == kTfLiteBuiltinDepthwiseConv2d) {
        op->kh = f->dims->data[1], op->kw = f->dims->data[2];
        const size_t wn = (size_t)op->kh * op->kw * channels;
        if (!weights_ready) {
          op->weights = (int8_t*)malloc(wn);
          op->bias = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
          if (!op->weights || !op->bias) {
            el_op_release(op);
            return kTfLiteError;
          }
          memcpy(op->weights, f->data.int8, wn);
          for (int ch = 0; ch < channels; ch++) op->bias[ch] = bias ? bias[ch] : 0;
        }
        op->pad_top = pad_before(op->stride_h, op->dilation_h, op->in_shape.d[1], op->kh, op->out_shape.d[1]);
        op->pad_left = pad_before(op->stride_w, op->dilation_w, op->in_shape.d[2], op->kw, op->out_shape.d[2]);
        *scratch = *scratch > sizeof(int32_t) * (size_t)channels ? *scratch : sizeof(int32_t) * (size_t)channels;
        return kTfLiteOk;
      }
      if (fc) {
        op->k = f->dims->data[1];
      } else {
        op->kh = f->dims->data[1], op->kw = f->dims->data[2];
        op->k = op->kh * op->kw * op->in_shape.d[3];
        op->pad_top = pad_before(op->stride_h, op->dilation_h, op->in_shape.d[1], op->kh, op->out_shape.d[1]);
        op->pad_left = pad_before(op->stride_w, op->dilation_w, op->in_shape.d[2], op->kw, op->out_shape.d[2]);
        op->direct = op->kh == 1 && op->kw == 1 && op->stride_h == 1 && op->stride_w == 1 && op->pad_top == 0 &&
                     op->pad_left == 0 && op->in_shape.d[1] == op->out_shape.d[1] &&
                     op->in_shape.d[2] == op->out_shape.d[2];
        if (!op->direct) {
          const size_t need = (size_t)op->out_shape.d[1] * op->out_shape.d[2] * (size_t)op->k;
          *scratch = *scratch > need ? *scratch : need;
        }
      }
      if (!weights_ready) {
        op->gemm = gemm;
        op->packed = malloc(gemm->packed_size((size_t)channels, (size_t)op->k) + 64);
        if (!op->packed) {
          el_op_release(op);
          return kTfLiteError;
        }
        gemm->pack((size_t)channels, (size_t)op->k, f->data.int8, bias, op->in_zp, op->packed);
      }
      return kTfLiteOk;
    }
    case kTfLiteBuiltinAdd: {
      const TfLiteTensor* y = T(c, op->inputs[1]);
      op->in2_shape = ins[1];
      op->in2_zp = y->params.zero_point;
      op->left_shift = 20;
      const double twice_max = 2.0 * (double)(x->params.scale > y->params.scale ? x->params.scale : y->params.scale);
      el_quantize_multiplier((double)x->params.scale / twice_max, &op->m1, &op->s1);
      el_quantize_multiplier((double)y->params.scale / twice_max, &op->m2, &op->s2);
      el_quantize_multiplier(twice_max / ((double)(1 << op->left_shift) * (double)out->params.scale), &op->mo,
                             &op->so);
      return kTfLiteOk;
    }
    case kTfLiteBuiltinMul: {
      const TfLiteTensor* y = T(c, op->inputs[1]);
      op->in2_shape = ins[1];
      op->in2_zp = y->params.zero_point;
      el_quantize_multiplier((double)x->params.scale * (double)y->params.scale / (double)out->params.scale, &op->mo,
                             &op->so);
      return kTfLiteOk;
    }
    case kTfLiteBuiltinAveragePool2d:
    case kTfLiteBuiltinMaxPool2d:
      op->pad_top = pad_before(op->stride_h, 1, op->in_shape.d[1], op->filter_h, op->out_shape.d[1]);
      op->pad_left = pad_before(op->stride_w, 1, op->in_shape.d[2], op->filter_w, op->out_shape.d[2]);
      return kTfLiteOk;
    case kTfLiteBuiltinMean: {
      const TfLiteTensor* axis = T(c, op->inputs[1]);
      const el_shape as = shape_of(axis);
      op->reduce_mask = 0;
      for (size_t i = 0; i < numel(&as); i++) {
        int a = axis->data.i32[i];
        if (a < 0) a += op->in_shape.rank;
        op->reduce_mask |= 1 << a;
      }
      el_quantize_multiplier((double)x->params.scale / (double)out->params.scale, &op->mo, &op->so);
      /* keep_dims over H and W of a 4-D tensor: TFLite's optimized_integer_ops::Mean, its own float set-up */
      op->direct = op->keep_dims && op->in_shape.rank == 4 && op->reduce_mask == 6;
      if (op->direct) {
        const float n = (float)(op->in_shape.d[1] * op->in_shape.d[2]);
        float temp = (float)op->in_zp * x->params.scale / out->params.scale;
        temp = temp > 0 ? temp + 0.5f : temp - 0.5f;
        op->m2 = op->out_zp - (int32_t)temp; /* bias */
        el_quantize_multiplier((double)(x->params.scale / (n * out->params.scale)), &op->m1, &op->s1);
      }
      op->sums = (int32_t*)malloc(sizeof(int32_t) * (numel(&op->out_shape) + 1));
      return op->sums ? kTfLiteOk : kTfLiteError;
    }
    case kTfLiteBuiltinPad: {
      const TfLiteTensor* pads = T(c, op->inputs[1]);
      for (int i = 0; i < op->in_shape.rank; i++) {
        op->pads[i][0] = pads->data.i32[2 * i];
        op->pads[i][1] = pads->data.i32[2 * i + 1];
      }
      return kTfLiteOk;
    }
    case kTfLiteBuiltinConcatenation: {
      const int r = op->out_shape.rank;
      const int axis = op->axis < 0 ? op->axis + r : op->axis;
      op->axis = axis;
      op->concat_outer = 1;
      for (int d = 0; d < axis; d++) op->concat_outer *= op->out_shape.d[d];
      return kTfLiteOk;
    }
    case kTfLiteBuiltinSoftmax: {
      const float scale = -x->params.scale * op->beta;
      for (int32_t v = 0; v <= 255; v++) op->table[255 - v] = expf(scale * (float)v);
      return kTfLiteOk;
    }
    case kTfLiteBuiltinLogistic: {
      const float inverse_scale = 1.0f / out->params.scale;
      for (int32_t v = -128; v <= 127; v++) {
        const float deq = x->params.scale * (float)(v - op->in_zp);
        const float rescaled = roundf(sigmoidf(deq) * inverse_scale);
        const int32_t q = (int32_t)(rescaled + (float)op->out_zp);
        op->lut[(uint8_t)(int8_t)v] = (int8_t)el_clamp(q, -128, 127);
      }
      return kTfLiteOk;
    }
    case kTfLiteBuiltinHardSwish: {
      const float hires = (1.0f / 128.0f) * x->params.scale;
      const float reluish_scale = 3.0f / 32768.0f;
      int32_t m32;
      el_quantize_multiplier((double)(hires / out->params.scale), &m32, &op->hs_out_exp);
      downscale_to_int16(m32, &op->hs_out_mult);
      el_quantize_multiplier((double)(hires / reluish_scale), &m32, &op->hs_relu_exp);
      downscale_to_int16(m32, &op->hs_relu_mult);
      return kTfLiteOk;
    }
    case kTfLiteBuiltinSpaceToBatchNd:
    case kTfLiteBuiltinBatchToSpaceNd: {
      const int32_t* b = T(c, op->inputs[1])->data.i32;
      const int32_t* pd = T(c, op->inputs[2])->data.i32;
      op->kh = b[0], op->kw = b[1], op->pad_top = pd[0], op->pad_left = pd[2];
      return kTfLiteOk;
    }
    case kTfLiteBuiltinReshape:
      return kTfLiteOk;
    default:
      return kTfLiteError;
  }
}

/* ---------------------------------------------------------------------------------------------------- */
/* shape propagation                                                                                    */

#define BAD(reason)  \
  do {               \
    *why = (reason); \
    return 0;        \
  } while (0)

int el_op_output_shape(TfLiteContext* c, const el_op* op, const el_shape* ins, el_shape* o, const char** why) {
  const el_shape* x = &ins[0];
  const el_shape model_out = shape_of(T(c, op->output));
  memset(o, 0, sizeof *o);
  for (int i = 0; i < op->n_inputs && i < EL_MAX_INPUTS; i++)
    if (op->inputs[i] >= 0 && ins[i].rank > 4) BAD("more than 4 dimensions");
  switch (op->code) {
    case kTfLiteBuiltinConv2d:
    case kTfLiteBuiltinDepthwiseConv2d:
    case kTfLiteBuiltinAveragePool2d:
    case kTfLiteBuiltinMaxPool2d: {
      if (x->rank != 4) BAD("input is not 4-D");
      int kh, kw, oc;
      if (op->code == kTfLiteBuiltinAveragePool2d || op->code == kTfLiteBuiltinMaxPool2d) {
        kh = op->filter_h, kw = op->filter_w, oc = x->d[3];
      } else {
        const el_shape f = ins[1];
        kh = f.d[1], kw = f.d[2], oc = op->code == kTfLiteBuiltinConv2d ? f.d[0] : f.d[3];
        if (op->code == kTfLiteBuiltinConv2d && f.d[3] != x->d[3]) BAD("input channels differ from the weights'");
        if (op->code == kTfLiteBuiltinDepthwiseConv2d && (x->d[3] <= 0 || oc % x->d[3] != 0))
          BAD("output channels not a multiple of input channels");
      }
      o->rank = 4;
      o->d[0] = x->d[0];
      o->d[1] = out_size(op->padding, x->d[1], kh, op->stride_h, op->dilation_h);
      o->d[2] = out_size(op->padding, x->d[2], kw, op->stride_w, op->dilation_w);
      o->d[3] = oc;
      if (o->d[1] <= 0 || o->d[2] <= 0) BAD("input smaller than the filter");
      return 1;
    }
    case kTfLiteBuiltinFullyConnected: {
      const int units = ins[1].d[0], k = ins[1].d[1];
      const size_t n = numel(x);
      if (k <= 0 || n % (size_t)k != 0) BAD("input size not a multiple of the weights' depth");
      if (model_out.rank == x->rank && x->rank >= 2 && x->d[x->rank - 1] == k) { /* keep_num_dims */
        *o = *x;
        o->d[o->rank - 1] = units;
      } else {
        o->rank = 2;
        o->d[0] = (int)(n / (size_t)k);
        o->d[1] = units;
      }
      return 1;
    }
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinMul: {
      const el_shape* y = &ins[1];
      const int r = x->rank > y->rank ? x->rank : y->rank;
      o->rank = r;
      for (int i = 0; i < r; i++) {
        const int xo = i - (r - x->rank), yo = i - (r - y->rank);
        const int xd = xo >= 0 ? x->d[xo] : 1, yd = yo >= 0 ? y->d[yo] : 1;
        if (xd != yd && xd != 1 && yd != 1) BAD("shapes do not broadcast");
        o->d[i] = xd == 1 ? yd : xd;
      }
      return 1;
    }
    case kTfLiteBuiltinMean: {
      int mask = 0;
      const TfLiteTensor* axis = T(c, op->inputs[1]);
      const el_shape as = shape_of(axis);
      for (size_t i = 0; i < numel(&as); i++) {
        int a = axis->data.i32[i];
        if (a < 0) a += x->rank;
        if (a < 0 || a >= x->rank) BAD("axis out of range");
        mask |= 1 << a;
      }
      for (int i = 0; i < x->rank; i++) {
        if (!(mask & (1 << i))) o->d[o->rank++] = x->d[i];
        else if (op->keep_dims) o->d[o->rank++] = 1;
      }
      return 1;
    }
    case kTfLiteBuiltinPad: {
      const TfLiteTensor* pads = T(c, op->inputs[1]);
      if (pads->dims->data[0] != x->rank) BAD("paddings do not match the input rank");
      *o = *x;
      for (int i = 0; i < x->rank; i++) o->d[i] += pads->data.i32[2 * i] + pads->data.i32[2 * i + 1];
      return 1;
    }
    case kTfLiteBuiltinConcatenation: {
      *o = *x;
      const int axis = op->axis < 0 ? op->axis + x->rank : op->axis;
      if (axis < 0 || axis >= x->rank) BAD("axis out of range");
      o->d[axis] = 0;
      for (int i = 0; i < op->n_inputs; i++) {
        if (ins[i].rank != x->rank) BAD("ranks differ");
        for (int d = 0; d < x->rank; d++)
          if (d != axis && ins[i].d[d] != x->d[d]) BAD("shapes do not match");
        o->d[axis] += ins[i].d[axis];
      }
      return 1;
    }
    case kTfLiteBuiltinSpaceToBatchNd:
    case kTfLiteBuiltinBatchToSpaceNd: {
      if (x->rank != 4) BAD("input is not 4-D");
      const int32_t* b = T(c, op->inputs[1])->data.i32;
      const int32_t* pd = T(c, op->inputs[2])->data.i32;
      o->rank = 4;
      o->d[3] = x->d[3];
      if (op->code == kTfLiteBuiltinSpaceToBatchNd) {
        const int h = x->d[1] + pd[0] + pd[1], w = x->d[2] + pd[2] + pd[3];
        if (h % b[0] != 0 || w % b[1] != 0) BAD("padded size not a multiple of the block");
        o->d[0] = x->d[0] * b[0] * b[1], o->d[1] = h / b[0], o->d[2] = w / b[1];
      } else {
        if (x->d[0] % (b[0] * b[1]) != 0) BAD("batch not a multiple of the block");
        o->d[0] = x->d[0] / (b[0] * b[1]);
        o->d[1] = x->d[1] * b[0] - pd[0] - pd[1], o->d[2] = x->d[2] * b[1] - pd[2] - pd[3];
        if (o->d[1] < 0 || o->d[2] < 0) BAD("crops larger than the output");
      }
      return 1;
    }
    case kTfLiteBuiltinShape:
      o->rank = 1;
      o->d[0] = x->rank;
      return 1;
    case kTfLiteBuiltinStridedSlice: {
      int start, count;
      slice_1d(x->d[0], T(c, op->inputs[1])->data.i32[0], T(c, op->inputs[2])->data.i32[0],
               T(c, op->inputs[3])->data.i32[0], op->begin_mask, op->end_mask, op->shrink_mask, &start, &count);
      if (op->shrink_mask & 1) {
        if (start < 0 || start >= x->d[0]) BAD("slice index out of range");
        o->rank = 0;
      } else {
        o->rank = 1;
        o->d[0] = count;
      }
      return 1;
    }
    case kTfLiteBuiltinPack:
      o->rank = x->rank + 1;
      o->d[0] = op->n_inputs;
      for (int d = 0; d < x->rank; d++) o->d[d + 1] = x->d[d];
      for (int i = 0; i < op->n_inputs; i++)
        if (memcmp(&ins[i], x, sizeof *x) != 0) BAD("inputs differ");
      return 1;
    case kTfLiteBuiltinReshape: {
      *o = model_out;
      const size_t n = numel(x), m = numel(&model_out);
      if (n == m) return 1;
      /* a changed batch: the leading dimension absorbs it */
      const size_t rest = model_out.rank > 0 && model_out.d[0] > 0 ? m / (size_t)model_out.d[0] : 0;
      if (rest == 0 || n % rest != 0) BAD("new size does not fit the reshape");
      o->d[0] = (int)(n / rest);
      return 1;
    }
    case kTfLiteBuiltinSoftmax:
    case kTfLiteBuiltinLogistic:
    case kTfLiteBuiltinHardSwish:
      *o = *x;
      return 1;
    default:
      BAD("unknown op");
  }
}

/* ---------------------------------------------------------------------------------------------------- */
/* invoke                                                                                               */

typedef struct conv_task {
  const el_op* op;
  const int8_t* xb;
  int8_t* yb;
  int8_t* col;
  size_t rows_per_task, M;
} conv_task;

/* rows [r0, r1) of the output: im2col them (padding holds the input zero point, which adds nothing after
 * the folded zero-point term), then one GEMM call */
static void conv_rows(void* ctx, size_t task) {
  const conv_task* t = (const conv_task*)ctx;
  const el_op* op = t->op;
  const int H = op->in_shape.d[1], W = op->in_shape.d[2], C = op->in_shape.d[3];
  const int OW = op->out_shape.d[2], OC = op->out_shape.d[3];
  const size_t r0 = task * t->rows_per_task;
  const size_t r1 = r0 + t->rows_per_task < t->M ? r0 + t->rows_per_task : t->M;
  if (r0 >= r1) return;
  const qs8_gemm_params gp = {op->multiplier, op->shift, op->out_zp, op->act_min, op->act_max};
  if (op->direct) {
    op->gemm->run(r1 - r0, (size_t)OC, (size_t)C, t->xb + r0 * C, (size_t)C, op->packed, t->yb + r0 * OC, (size_t)OC,
                  &gp);
    return;
  }
  const int8_t pad = (int8_t)op->in_zp;
  for (size_t r = r0; r < r1; r++) {
    const int oy = (int)(r / (size_t)OW), ox = (int)(r % (size_t)OW);
    int8_t* row = t->col + r * (size_t)op->k;
    const int iy0 = oy * op->stride_h - op->pad_top, ix0 = ox * op->stride_w - op->pad_left;
    for (int ky = 0; ky < op->kh; ky++) {
      const int iy = iy0 + ky * op->dilation_h;
      for (int kx = 0; kx < op->kw; kx++) {
        const int ix = ix0 + kx * op->dilation_w;
        int8_t* dst = row + ((size_t)ky * op->kw + kx) * C;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) memset(dst, pad, (size_t)C);
        else memcpy(dst, t->xb + ((size_t)iy * W + ix) * C, (size_t)C);
      }
    }
  }
  op->gemm->run(r1 - r0, (size_t)OC, (size_t)op->k, t->col + r0 * (size_t)op->k, (size_t)op->k, op->packed,
                t->yb + r0 * OC, (size_t)OC, &gp);
}

static void conv_invoke(const el_op* op, const el_io* io, int8_t* scratch) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const int B = op->in_shape.d[0], H = op->in_shape.d[1], W = op->in_shape.d[2], C = op->in_shape.d[3];
  const int OH = op->out_shape.d[1], OW = op->out_shape.d[2], OC = op->out_shape.d[3];
  const size_t M = (size_t)OH * OW;
  const size_t threads = (size_t)el_pool_threads(io->pool);
  size_t per = (M + threads - 1) / threads;
  per = per < 16 ? 16 : (per + 1) / 2 * 2; /* whole 2-row tiles */
  for (int b = 0; b < B; b++) {
    conv_task t = {op, x + (size_t)b * H * W * C, y + (size_t)b * M * OC, scratch, per, M};
    el_parallel_for(io->pool, (M + per - 1) / per, conv_rows, &t);
  }
}

#define DW_BLOCK 16

/* One block of up to DW_BLOCK channels of one output pixel; accumulators stay in registers across taps. */
static inline void dw_block(const el_op* op, const int8_t* restrict xb, int H, int W, int C, int oy, int ox, int c0,
                            int8_t* restrict yp) {
  const int OC = op->out_shape.d[3];
  const int mult = OC / C;
  const int nb = OC - c0 < DW_BLOCK ? OC - c0 : DW_BLOCK;
  const int32_t zp = op->in_zp;
  int32_t acc[DW_BLOCK];
  for (int j = 0; j < DW_BLOCK; j++) acc[j] = j < nb ? op->bias[c0 + j] : 0;
  const int iy0 = oy * op->stride_h - op->pad_top, ix0 = ox * op->stride_w - op->pad_left;
  for (int ky = 0; ky < op->kh; ky++) {
    const int iy = iy0 + ky * op->dilation_h;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < op->kw; kx++) {
      const int ix = ix0 + kx * op->dilation_w;
      if (ix < 0 || ix >= W) continue;
      const int8_t* restrict xp = xb + ((size_t)iy * W + ix) * C;
      const int8_t* restrict wp = op->weights + ((size_t)ky * op->kw + kx) * OC + c0;
      if (mult == 1 && nb == DW_BLOCK) {
        for (int j = 0; j < DW_BLOCK; j++) acc[j] += (int16_t)(xp[c0 + j] - zp) * (int16_t)wp[j];
      } else {
        for (int j = 0; j < nb; j++) acc[j] += ((int32_t)xp[(c0 + j) / mult] - zp) * wp[j];
      }
    }
  }
  /* LiteRT's depthwise kernel vectorizes whole groups of 8 output channels (ruy-style rounding); channels past
   * the last multiple of 8 go through its scalar tail, which requantizes with gemmlowp's double rounding. */
  const int vec_end = (OC / 8) * 8;
  const int split = vec_end - c0 < 0 ? 0 : (vec_end - c0 > nb ? nb : vec_end - c0);
  for (int j = 0; j < split; j++) { /* two loops, not a branch per channel, so the first one vectorizes */
    const int32_t q = el_requantize_gemm(acc[j], op->multiplier[c0 + j], op->shift[c0 + j]);
    yp[c0 + j] = (int8_t)el_clamp(q + op->out_zp, op->act_min, op->act_max);
  }
  for (int j = split; j < nb; j++) {
    const int32_t q = el_requantize(acc[j], op->multiplier[c0 + j], op->shift[c0 + j]);
    yp[c0 + j] = (int8_t)el_clamp(q + op->out_zp, op->act_min, op->act_max);
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define EL_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define EL_MULTIVERSION
#endif

typedef struct dw_task {
  const el_op* op;
  const int8_t* x;
  int8_t* y;
} dw_task;

/* DEPTHWISE_CONV_2D: TFLite's optimized kernel rounds like ruy (see requantize.h) on whole groups of 8
 * channels and like gemmlowp on the rest (dw_block). One task = one output row of one batch. */
EL_MULTIVERSION
static void dw_row(void* ctx, size_t task) {
  const dw_task* t = (const dw_task*)ctx;
  const el_op* op = t->op;
  const int H = op->in_shape.d[1], W = op->in_shape.d[2], C = op->in_shape.d[3];
  const int OH = op->out_shape.d[1], OW = op->out_shape.d[2], OC = op->out_shape.d[3];
  const int b = (int)(task / (size_t)OH), oy = (int)(task % (size_t)OH);
  const int8_t* xb = t->x + (size_t)b * H * W * C;
  for (int ox = 0; ox < OW; ox++) {
    int8_t* yp = t->y + (((size_t)b * OH + oy) * OW + ox) * OC;
    for (int c0 = 0; c0 < OC; c0 += DW_BLOCK) dw_block(op, xb, H, W, C, oy, ox, c0, yp);
  }
}

static void dwconv_invoke(const el_op* op, const el_io* io, int8_t* scratch) {
  (void)scratch;
  dw_task t = {op, el_data(io, op->inputs[0]), el_data(io, op->output)};
  el_parallel_for(io->pool, (size_t)op->in_shape.d[0] * (size_t)op->out_shape.d[1], dw_row, &t);
}

static void fc_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const size_t batches = numel(&op->in_shape) / (size_t)op->k;
  const qs8_gemm_params gp = {op->multiplier, op->shift, op->out_zp, op->act_min, op->act_max};
  op->gemm->run(batches, (size_t)op->n, (size_t)op->k, x, (size_t)op->k, op->packed, y, (size_t)op->n, &gp);
}

/* index of output element `o` (flat) in a right-aligned broadcast input of shape `s` */
static void broadcast_strides(const el_shape* in, const el_shape* out, size_t* strides) {
  size_t st = 1;
  for (int i = out->rank - 1; i >= 0; i--) {
    const int ii = i - (out->rank - in->rank);
    const int d = ii >= 0 ? in->d[ii] : 1;
    strides[i] = d == 1 ? 0 : st;
    st *= (size_t)d;
  }
}

static void binary_invoke(const el_op* op, const el_io* io) {
  const int8_t* a = el_data(io, op->inputs[0]);
  const int8_t* b = el_data(io, op->inputs[1]);
  int8_t* y = el_data(io, op->output);
  const size_t n = numel(&op->out_shape);
  const int same = numel(&op->in_shape) == n && numel(&op->in2_shape) == n;
  size_t sa[EL_MAX_DIMS], sb[EL_MAX_DIMS];
  if (!same) {
    broadcast_strides(&op->in_shape, &op->out_shape, sa);
    broadcast_strides(&op->in2_shape, &op->out_shape, sb);
  }
  const int R = op->out_shape.rank;
  int idx[EL_MAX_DIMS] = {0};
  size_t ia = 0, ib = 0;
  for (size_t o = 0; o < n; o++) {
    if (same) ia = ib = o;
    const int32_t va = (int32_t)a[ia] - op->in_zp, vb = (int32_t)b[ib] - op->in2_zp;
    int32_t r;
    if (op->code == kTfLiteBuiltinAdd) {
      const int32_t sa1 = el_requantize(va * (1 << op->left_shift), op->m1, op->s1);
      const int32_t sb1 = el_requantize(vb * (1 << op->left_shift), op->m2, op->s2);
      r = el_requantize(sa1 + sb1, op->mo, op->so) + op->out_zp;
    } else {
      r = el_requantize(va * vb, op->mo, op->so) + op->out_zp;
    }
    y[o] = (int8_t)el_clamp(r, op->act_min, op->act_max);
    if (!same) { /* advance the multi-index */
      for (int d = R - 1; d >= 0; d--) {
        idx[d]++;
        ia += sa[d];
        ib += sb[d];
        if (idx[d] < op->out_shape.d[d]) break;
        ia -= sa[d] * (size_t)idx[d];
        ib -= sb[d] * (size_t)idx[d];
        idx[d] = 0;
      }
    }
  }
}

static void pool_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const int B = op->in_shape.d[0], H = op->in_shape.d[1], W = op->in_shape.d[2], C = op->in_shape.d[3];
  const int OH = op->out_shape.d[1], OW = op->out_shape.d[2];
  const int avg = op->code == kTfLiteBuiltinAveragePool2d;
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        const int iy0 = oy * op->stride_h - op->pad_top, ix0 = ox * op->stride_w - op->pad_left;
        const int fy0 = iy0 < 0 ? -iy0 : 0, fx0 = ix0 < 0 ? -ix0 : 0;
        const int fy1 = op->filter_h < H - iy0 ? op->filter_h : H - iy0;
        const int fx1 = op->filter_w < W - ix0 ? op->filter_w : W - ix0;
        int8_t* yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
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
          yp[ch] = (int8_t)el_clamp(acc, op->act_min, op->act_max);
        }
      }
    }
  }
}

/* keep_dims MEAN over H, W (TFLite's optimized_integer_ops::Mean, one thread): raw sums, then TFLite's
 * 16-channel vector path (NEON semantics, also on x86 through NEON_2_SSE: el_requantize_gemm) for whole
 * blocks of 16 channels and its scalar tail (el_requantize) for the rest; + bias; clamp. */
static void mean_spatial_invoke(const el_op* op, const int8_t* x, int8_t* y) {
  const int B = op->in_shape.d[0], H = op->in_shape.d[1], W = op->in_shape.d[2], C = op->in_shape.d[3];
  const int vec_end = C / 16 * 16;
  for (int b = 0; b < B; b++) {
    for (int ch = 0; ch < C; ch++) {
      int32_t acc = 0;
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) acc += x[(((size_t)b * H + h) * W + w) * C + ch];
      acc = ch < vec_end ? el_requantize_gemm(acc, op->m1, op->s1) : el_requantize(acc, op->m1, op->s1);
      y[(size_t)b * C + ch] = (int8_t)el_clamp(acc + op->m2, -128, 127);
    }
  }
}

static void mean_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  if (op->direct) {
    mean_spatial_invoke(op, x, y);
    return;
  }
  const el_shape* s = &op->in_shape;
  const size_t n_out = numel(&op->out_shape);
  int32_t* sums = op->sums;
  memset(sums, 0, sizeof(int32_t) * n_out);
  /* output strides over the kept axes */
  size_t ostride[EL_MAX_DIMS];
  size_t st = 1;
  int64_t count = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    if (op->reduce_mask & (1 << i)) {
      ostride[i] = 0;
      count *= s->d[i];
    } else {
      ostride[i] = st;
      st *= (size_t)s->d[i];
    }
  }
  const size_t n_in = numel(s);
  int idx[EL_MAX_DIMS] = {0};
  size_t o = 0;
  for (size_t i = 0; i < n_in; i++) {
    sums[o] += x[i];
    for (int d = s->rank - 1; d >= 0; d--) {
      idx[d]++;
      o += ostride[d];
      if (idx[d] < s->d[d]) break;
      o -= ostride[d] * (size_t)idx[d];
      idx[d] = 0;
    }
  }
  /* reference_ops::QuantizedMeanOrSum: fold 1/count into the multiplier */
  int32_t mult = op->mo, shift = op->so;
  int sh = 63 - __builtin_clzll((unsigned long long)count);
  sh = sh < 32 ? sh : 32;
  sh = sh < 31 + shift ? sh : 31 + shift;
  mult = (int32_t)(((int64_t)mult << sh) / count);
  shift = shift - sh;
  for (size_t k = 0; k < n_out; k++) {
    const int32_t shifted = (int32_t)((int64_t)sums[k] - (int64_t)op->in_zp * count);
    const int32_t v = el_requantize(shifted, mult, shift) + op->out_zp;
    y[k] = (int8_t)el_clamp(v, -128, 127);
  }
}

static void pad_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const el_shape* s = &op->in_shape;
  const el_shape* os = &op->out_shape;
  memset(y, (int8_t)op->out_zp, numel(os));
  const int R = s->rank;
  if (numel(s) == 0) return;
  /* copy rows of the innermost dimension */
  const int inner = R > 0 ? s->d[R - 1] : 1;
  size_t ostr[EL_MAX_DIMS];
  size_t st = 1;
  for (int i = R - 1; i >= 0; i--) {
    ostr[i] = st;
    st *= (size_t)os->d[i];
  }
  const size_t rows = numel(s) / (size_t)inner;
  int idx[EL_MAX_DIMS] = {0};
  for (size_t r = 0; r < rows; r++) {
    size_t off = R > 0 ? (size_t)op->pads[R - 1][0] : 0;
    for (int d = 0; d < R - 1; d++) off += (size_t)(idx[d] + op->pads[d][0]) * ostr[d];
    memcpy(y + off, x + r * (size_t)inner, (size_t)inner);
    for (int d = R - 2; d >= 0; d--) {
      if (++idx[d] < s->d[d]) break;
      idx[d] = 0;
    }
  }
}

static void concat_invoke(const el_op* op, const el_io* io) {
  int8_t* y = el_data(io, op->output);
  const int r = op->out_shape.rank;
  size_t inner = 1;
  for (int d = op->axis + 1; d < r; d++) inner *= (size_t)op->out_shape.d[d];
  const size_t out_row = (size_t)op->out_shape.d[op->axis] * inner;
  size_t col = 0;
  for (int i = 0; i < op->n_inputs; i++) {
    const int8_t* x = el_data(io, op->inputs[i]);
    const size_t row = (size_t)op->in_shapes[i].d[op->axis] * inner;
    for (int o = 0; o < op->concat_outer; o++) memcpy(y + (size_t)o * out_row + col, x + (size_t)o * row, row);
    col += row;
  }
}

static void softmax_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const int last = op->in_shape.d[op->in_shape.rank - 1];
  const size_t outer = numel(&op->in_shape) / (size_t)last;
  const float out_scale = io->context->tensors[op->output].params.scale;
  for (size_t i = 0; i < outer; i++) {
    const int8_t* xr = x + i * (size_t)last;
    int8_t* yr = y + i * (size_t)last;
    int32_t mx = -128;
    for (int j = 0; j < last; j++) mx = xr[j] > mx ? xr[j] : mx;
    const float* tab = &op->table[255 - mx];
    float sum = 0.0f;
    for (int j = 0; j < last; j++) sum += tab[xr[j]];
    const float inv = 1.0f / (sum * out_scale);
    for (int j = 0; j < last; j++) {
      const int32_t q = (int32_t)roundf(tab[xr[j]] * inv) + op->out_zp;
      yr[j] = (int8_t)el_clamp(q, -128, 127);
    }
  }
}

/* SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND (TFLite's reference index arithmetic; padding = output zero point) */
static void space_batch_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const el_shape* is = &op->in_shape;
  const el_shape* os = &op->out_shape;
  const size_t C = (size_t)is->d[3];
  if (op->code == kTfLiteBuiltinSpaceToBatchNd) {
    const int in_b = is->d[0];
    for (int ob = 0; ob < os->d[0]; ob++) {
      const int b = ob % in_b, shift_w = (ob / in_b) % op->kw, shift_h = (ob / in_b) / op->kw;
      for (int oy = 0; oy < os->d[1]; oy++) {
        for (int ox = 0; ox < os->d[2]; ox++) {
          int8_t* dst = y + (((size_t)ob * os->d[1] + oy) * os->d[2] + ox) * C;
          const int iy = oy * op->kh + shift_h - op->pad_top, ix = ox * op->kw + shift_w - op->pad_left;
          if (iy < 0 || iy >= is->d[1] || ix < 0 || ix >= is->d[2]) memset(dst, (int8_t)op->out_zp, C);
          else memcpy(dst, x + (((size_t)b * is->d[1] + iy) * is->d[2] + ix) * C, C);
        }
      }
    }
  } else {
    const int out_b = os->d[0];
    for (int ib = 0; ib < is->d[0]; ib++) {
      const int b = ib % out_b, off = ib / out_b, off_h = off / op->kw, off_w = off % op->kw;
      for (int iy = 0; iy < is->d[1]; iy++) {
        const int oy = iy * op->kh + off_h - op->pad_top;
        if (oy < 0 || oy >= os->d[1]) continue;
        for (int ix = 0; ix < is->d[2]; ix++) {
          const int ox = ix * op->kw + off_w - op->pad_left;
          if (ox < 0 || ox >= os->d[2]) continue;
          memcpy(y + (((size_t)b * os->d[1] + oy) * os->d[2] + ox) * C, x + (((size_t)ib * is->d[1] + iy) * is->d[2] + ix) * C, C);
        }
      }
    }
  }
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

static void hard_swish_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const size_t n = numel(&op->in_shape);
  for (size_t i = 0; i < n; i++) {
    const int16_t v = (int16_t)(x[i] - op->in_zp);
    const int16_t hires = (int16_t)(v * (1 << 7));
    const int16_t preshift = srdhm16(hires, op->hs_out_mult);
    int16_t reluish = hires;
    if (op->hs_relu_exp > 0) reluish = sat16((int32_t)reluish * (1 << (op->hs_relu_exp - 1)));
    reluish = srdhm16(reluish, op->hs_relu_mult);
    if (op->hs_relu_exp > 0) reluish = sat16((int32_t)reluish * 2);
    if (op->hs_relu_exp < 0) reluish = rdbpot16(reluish, -op->hs_relu_exp);
    reluish = (int16_t)((reluish + (1 << 15)) >> 1);
    const int16_t pre_out = sdhm16(reluish, preshift);
    int32_t o = rdbpot16(pre_out, -op->hs_out_exp);
    o += op->out_zp;
    y[i] = (int8_t)el_clamp(o, -128, 127);
  }
}

static void lut_invoke(const el_op* op, const el_io* io) {
  const int8_t* x = el_data(io, op->inputs[0]);
  int8_t* y = el_data(io, op->output);
  const size_t n = numel(&op->in_shape);
  for (size_t i = 0; i < n; i++) y[i] = op->lut[(uint8_t)x[i]];
}

static void shape_ops_invoke(const el_op* op, const el_io* io) {
  int32_t* y = (int32_t*)(void*)el_data(io, op->output);
  if (op->code == kTfLiteBuiltinShape) {
    for (int d = 0; d < op->in_shape.rank; d++) y[d] = op->in_shape.d[d];
  } else if (op->code == kTfLiteBuiltinStridedSlice) {
    const int32_t* x = (const int32_t*)(const void*)el_data(io, op->inputs[0]);
    const TfLiteTensor* t = &io->context->tensors[op->inputs[3]];
    const int stride = t->data.i32[0];
    int start, count;
    slice_1d(op->in_shape.d[0], io->context->tensors[op->inputs[1]].data.i32[0],
             io->context->tensors[op->inputs[2]].data.i32[0], stride, op->begin_mask, op->end_mask, op->shrink_mask,
             &start, &count);
    for (int i = 0; i < count; i++) y[i] = x[start + i * stride];
  } else {
    const size_t each = numel(&op->in_shape);
    for (int i = 0; i < op->n_inputs; i++)
      memcpy(y + (size_t)i * each, el_data(io, op->inputs[i]), each * sizeof(int32_t));
  }
}

void el_op_invoke(const el_op* op, const el_io* io, int8_t* scratch) {
  switch (op->code) {
    case kTfLiteBuiltinShape:
    case kTfLiteBuiltinStridedSlice:
    case kTfLiteBuiltinPack: shape_ops_invoke(op, io); break;
    case kTfLiteBuiltinConv2d: conv_invoke(op, io, scratch); break;
    case kTfLiteBuiltinDepthwiseConv2d: dwconv_invoke(op, io, scratch); break;
    case kTfLiteBuiltinFullyConnected: fc_invoke(op, io); break;
    case kTfLiteBuiltinAdd:
    case kTfLiteBuiltinMul: binary_invoke(op, io); break;
    case kTfLiteBuiltinAveragePool2d:
    case kTfLiteBuiltinMaxPool2d: pool_invoke(op, io); break;
    case kTfLiteBuiltinMean: mean_invoke(op, io); break;
    case kTfLiteBuiltinPad: pad_invoke(op, io); break;
    case kTfLiteBuiltinConcatenation: concat_invoke(op, io); break;
    case kTfLiteBuiltinReshape: {
      const int8_t* x = el_data(io, op->inputs[0]);
      int8_t* y = el_data(io, op->output);
      if (x != y) memmove(y, x, numel(&op->in_shape));
      break;
    }
    case kTfLiteBuiltinSoftmax: softmax_invoke(op, io); break;
    case kTfLiteBuiltinSpaceToBatchNd:
    case kTfLiteBuiltinBatchToSpaceNd: space_batch_invoke(op, io); break;
    case kTfLiteBuiltinLogistic: lut_invoke(op, io); break;
    case kTfLiteBuiltinHardSwish: hard_swish_invoke(op, io); break;
    default: break;
  }
}
