/* TRANSPOSE_CONV (Keras Conv2DTranspose) through the qs8 transposed-convolution microkernel the node chose at
 * prepare (kernel_choice.h; kernels/qs8_tconv.h). One task = one output row of one image.
 *
 * Inputs as TFLite orders them: the output shape (int32 [4]; constant, or computed in front of the node from the
 * dynamic batch by SHAPE / STRIDED_SLICE / PACK, which the delegate also claims), the weights (int8 OHWI, per
 * output channel), the int8 input, an optional int32 bias. The builtin's optimized kernel (LiteRT 2.3 and
 * tflite-runtime 2.14 alike) does a GEMM into int32, col2im, the bias, then its Quantize(): ruy's rounding on
 * whole groups of 8 channels (its vector body) and double rounding on the rest (its tail), found by testing
 * (tests/neon/test_convops.py, tests/emulated_pi/test_convops_on_emulated_pi.py). */
#include <stdlib.h>

#include "../kernels/qs8_tconv.h"
#include "../requantize.h"
#include "kernel_choice.h"
#include "util.h"

enum { TC_SHAPE = 0, TC_WEIGHTS = 1, TC_INPUT = 2, TC_BIAS = 3 };

typedef struct tconv_state {
  int padding, stride_w, stride_h, activation;
  el_shape in_shape, out_shape;
  void* packed;
  int packed_channels;
  const qs8_tconv_ukernel* kernel; /* chosen at the first prepare */
  qs8_tconv_params params;         /* the kernel's view, as of the last prepare */
} tconv_state;

/* TFLite's padding for the transposed conv: that of a conv from the output back to the input
 * (ComputePaddingHeightWidth with the output size as the input's); *after includes the odd offset. */
static int pad_before(int padding, int out, int k, int stride, int* after) {
  const int conv_out = el_out_size(padding, out, k, stride, 1);
  int total = (conv_out - 1) * stride + k - out;
  total = total > 0 ? total : 0;
  *after = total - total / 2;
  return total / 2;
}

/* The input size col2im walks for this output: TFLite's GEMM holds one column per input pixel, so the two must
 * agree (they do for every shape a converter writes; a model where they do not stays with the runtime). */
static int col2im_size(int padding, int out, int k, int stride) {
  int after = 0;
  const int before = pad_before(padding, out, k, stride, &after);
  return (out + before + after - k) / stride + 1;
}

static int tconv_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteIntArray* in = node->inputs;
  if (in->size < 3 || in->size > 4) EL_NO("unexpected inputs");
  const TfLiteTensor* shape = el_tensor(c, in->data[TC_SHAPE]);
  const TfLiteTensor* f = el_tensor(c, in->data[TC_WEIGHTS]);
  const TfLiteTensor* x = el_tensor(c, in->data[TC_INPUT]);
  const TfLiteTensor* b = in->size == 4 ? el_tensor(c, in->data[TC_BIAS]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  const TfLiteTransposeConvParams* p = (const TfLiteTransposeConvParams*)node->builtin_data;
  if (p == NULL) EL_NO("no options");
  if (!el_is_q8(x) || !el_is_q8(out)) EL_NO("activations are not int8 with per-tensor quantization");
  if (x->dims->size != 4 || out->dims->size != 4) EL_NO("not 4-D");
  if (shape == NULL || shape->type != kTfLiteInt32 || shape->dims == NULL || shape->dims->size != 1 ||
      shape->dims->data[0] != 4)
    EL_NO("output shape is not an int32 vector of 4");
  if (f == NULL || f->type != kTfLiteInt8 || !el_is_const(f) || f->dims->size != 4) EL_NO("weights not constant int8");
  const int oc = out->dims->data[3], kh = f->dims->data[1], kw = f->dims->data[2];
  if (f->dims->data[0] != oc || f->dims->data[3] != x->dims->data[3]) EL_NO("weights do not match the channels");
  if ((*why = el_filter_problem(f, oc, 0)) != NULL) return 0;
  if (!el_bias_ok(b, oc)) EL_NO("bias not constant int32");
  if (p->padding != kTfLitePaddingSame && p->padding != kTfLitePaddingValid) EL_NO("unknown padding");
  if (p->stride_width < 1 || p->stride_height < 1 || kh < 1 || kw < 1) EL_NO("bad stride or filter");
  /* the fused activation came with op version 4; every pinned runtime runs version 4 (tflite-runtime 2.14
   * included, tests/emulated_pi/test_convops_on_emulated_pi.py), so its options always hold the field */
  if (!el_act_ok(p->activation)) EL_NO("fused activation not none/RELU/RELU6/RELU_N1_TO_1");
  const int* xd = x->dims->data;
  const int* od = out->dims->data;
  if (od[0] != xd[0]) EL_NO("batch differs");
  if (col2im_size(p->padding, od[1], kh, p->stride_height) != xd[1] ||
      col2im_size(p->padding, od[2], kw, p->stride_width) != xd[2])
    EL_NO("output shape does not match the input, filter and strides");
  if (el_is_const(shape)) {
    for (int d = 0; d < 4; d++)
      if (shape->data.i32[d] != od[d]) EL_NO("output shape tensor differs from the output's shape");
  }
  return 1;
}

static void tconv_init(void* state, const TfLiteNode* node) {
  tconv_state* s = (tconv_state*)state;
  const TfLiteTransposeConvParams* p = (const TfLiteTransposeConvParams*)node->builtin_data;
  s->padding = p->padding, s->stride_w = p->stride_width, s->stride_h = p->stride_height;
  s->activation = p->activation; /* kTfLiteActNone below version 4 (the parser's default) */
}

/* The output is the model's (its batch the input's): a non-constant shape input is the converter's
 * [batch, H, W, C] from the dynamic batch and constants. */
static int tconv_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  const tconv_state* s = (const tconv_state*)node->state;
  const el_shape* x = &ins[TC_INPUT];
  const el_shape* f = &ins[TC_WEIGHTS];
  if (x->rank != 4) EL_NO("input is not 4-D");
  *o = el_tensor_shape(el_tensor(c, node->output));
  o->d[0] = x->d[0];
  if (f->d[3] != x->d[3]) EL_NO("input channels differ from the weights'");
  if (col2im_size(s->padding, o->d[1], f->d[1], s->stride_h) != x->d[1] ||
      col2im_size(s->padding, o->d[2], f->d[2], s->stride_w) != x->d[2])
    EL_NO("input size does not match the output shape");
  return 1;
}

static void tconv_release(void* state) {
  tconv_state* s = (tconv_state*)state;
  free(s->packed);
  s->packed = NULL;
}

/* Constant: multipliers (PopulateConvolutionQuantizationParams), the kernel and its packed weights, once. */
static TfLiteStatus weights_prepare(TfLiteContext* c, el_node* node, const el_kernels* kernels) {
  tconv_state* s = (tconv_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[TC_INPUT]);
  const TfLiteTensor* f = el_tensor(c, node->inputs[TC_WEIGHTS]);
  const TfLiteTensor* b = node->n_inputs > TC_BIAS ? el_tensor(c, node->inputs[TC_BIAS]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->output);
  const int channels = s->out_shape.d[3];
  int32_t* multiplier = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  int32_t* shift = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  TfLiteStatus status = kTfLiteError;
  if (multiplier != NULL && shift != NULL) {
    el_conv_multipliers(x, f, out, channels, multiplier, shift);
    const qs8_tconv_pack_params pp = {s->in_shape.d[3], channels, f->dims->data[1], f->dims->data[2],
                                      x->params.zero_point, f->data.int8, b ? b->data.i32 : NULL,
                                      multiplier, shift, channels / 8 * 8};
    s->kernel = el_choose_tconv(kernels, &pp);
    if (s->kernel != NULL && (s->packed = malloc(s->kernel->packed_size(&pp))) != NULL) {
      s->kernel->pack(&pp, s->packed);
      s->packed_channels = pp.C;
      status = kTfLiteOk;
    }
  }
  free(multiplier);
  free(shift);
  return status;
}

static TfLiteStatus tconv_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)scratch;
  tconv_state* s = (tconv_state*)node->state;
  const TfLiteTensor* f = el_tensor(c, node->inputs[TC_WEIGHTS]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->in_shape = ins[TC_INPUT];
  s->out_shape = *out_shape;
  el_act_range(s->activation, out, &s->params.act_min, &s->params.act_max);
  if (s->packed == NULL && weights_prepare(c, node, kernels) != kTfLiteOk) return kTfLiteError;
  if (s->in_shape.d[3] != s->packed_channels) return kTfLiteError; /* packed for another channel count */
  const int kh = f->dims->data[1], kw = f->dims->data[2];
  int after = 0;
  const qs8_tconv_params p = {s->in_shape.d[1], s->in_shape.d[2], s->in_shape.d[3], s->out_shape.d[2],
                              s->out_shape.d[3], kh, kw, s->stride_h, s->stride_w,
                              pad_before(s->padding, s->out_shape.d[1], kh, s->stride_h, &after),
                              pad_before(s->padding, s->out_shape.d[2], kw, s->stride_w, &after),
                              out->params.zero_point, s->params.act_min, s->params.act_max, s->packed};
  s->params = p;
  return kTfLiteOk;
}

typedef struct tconv_task {
  const tconv_state* s;
  const int8_t* x;
  int8_t* y;
} tconv_task;

static void tconv_row(void* ctx, size_t task) {
  const tconv_task* t = (const tconv_task*)ctx;
  const el_out_row r = el_nhwc_out_row(&t->s->in_shape, &t->s->out_shape, t->x, t->y, task);
  t->s->kernel->row(&t->s->params, r.image, r.oy, r.row);
}

static void tconv_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const tconv_state* s = (const tconv_state*)node->state;
  tconv_task t = {s, el_data(io, node->inputs[TC_INPUT]), el_data(io, node->output)};
  el_parallel_for(io->pool, (size_t)s->in_shape.d[0] * (size_t)s->out_shape.d[1], tconv_row, &t);
}

const el_op_def el_op_transpose_conv = {kTfLiteBuiltinTransposeConv, "TRANSPOSE_CONV", sizeof(tconv_state),
                                        tconv_check, tconv_init, tconv_output_shape, tconv_prepare, tconv_invoke,
                                        tconv_release};
