/* DEPTHWISE_CONV_2D through the qs8 depthwise microkernel the node chose at prepare (kernel_choice.h;
 * kernels/qs8_dwconv.h: LiteRT's two roundings, by channel group). One task = one output row of one image. */
#include <stdlib.h>
#include <string.h>

#include "../kernels/qs8_dwconv.h"
#include "../requantize.h"
#include "kernel_choice.h"
#include "util.h"

typedef struct dw_state {
  int padding, stride_w, stride_h, dilation_w, dilation_h, activation;
  el_shape in_shape, out_shape;
  int32_t out_zp, act_min, act_max;
  void* packed; /* the chosen kernel's weights, bias, multipliers and input zero point */
  int packed_channels;
  int kh, kw, pad_top, pad_left;
  const qs8_dwconv_ukernel* kernel; /* chosen at the first prepare */
  qs8_dwconv_params params;         /* the kernel's view of the above, as of the last prepare */
} dw_state;

static int dw_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  el_weighted t;
  if (!el_weighted_tensors(c, node, 4, 4, &t, why)) return 0;
  const TfLiteDepthwiseConvParams* p = (const TfLiteDepthwiseConvParams*)node->builtin_data;
  if (p == NULL) EL_NO("no options");
  const int oc = t.out->dims->data[3];
  if (t.f->dims->data[0] != 1 || t.f->dims->data[3] != oc) EL_NO("unexpected depthwise filter shape");
  if (oc % t.x->dims->data[3] != 0) EL_NO("output channels not a multiple of input channels");
  if ((*why = el_filter_problem(t.f, oc, 3)) != NULL) return 0;
  if (!el_bias_ok(t.b, oc)) EL_NO("bias not constant int32");
  return el_window_ok(p->padding, p->stride_width, p->stride_height, p->dilation_width_factor,
                      p->dilation_height_factor, p->activation, &t, why);
}

static void dw_init(void* state, const TfLiteNode* node) {
  dw_state* s = (dw_state*)state;
  const TfLiteDepthwiseConvParams* p = (const TfLiteDepthwiseConvParams*)node->builtin_data;
  s->padding = p->padding, s->stride_w = p->stride_width, s->stride_h = p->stride_height;
  s->dilation_w = p->dilation_width_factor, s->dilation_h = p->dilation_height_factor;
  s->activation = p->activation;
}

static int dw_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                           const char** why) {
  (void)c;
  const dw_state* s = (const dw_state*)node->state;
  const el_shape* x = &ins[0];
  const el_shape* f = &ins[1];
  if (x->rank != 4) EL_NO("input is not 4-D");
  const int oc = f->d[3];
  if (x->d[3] <= 0 || oc % x->d[3] != 0) EL_NO("output channels not a multiple of input channels");
  o->rank = 4;
  o->d[0] = x->d[0];
  o->d[1] = el_out_size(s->padding, x->d[1], f->d[1], s->stride_h, s->dilation_h);
  o->d[2] = el_out_size(s->padding, x->d[2], f->d[2], s->stride_w, s->dilation_w);
  o->d[3] = oc;
  if (o->d[1] <= 0 || o->d[2] <= 0) EL_NO("input smaller than the filter");
  return 1;
}

static void dw_release(void* state) {
  dw_state* s = (dw_state*)state;
  free(s->packed);
  s->packed = NULL;
}

/* Constant: the kernel is chosen for the node's weights and its constants packed at the first prepare only. */
static TfLiteStatus weights_prepare(TfLiteContext* c, el_node* node, const el_kernels* kernels) {
  dw_state* s = (dw_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* f = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* b = node->n_inputs > 2 ? el_tensor(c, node->inputs[2]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->output);
  const int channels = s->out_shape.d[3];
  int32_t* multiplier = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  int32_t* shift = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  TfLiteStatus status = kTfLiteError;
  if (multiplier != NULL && shift != NULL) {
    const TfLiteAffineQuantization* fq = el_affine(f);
    for (int ch = 0; ch < channels; ch++) { /* PopulateConvolutionQuantizationParams */
      const float fs = fq->scale->data[fq->scale->size == 1 ? 0 : ch];
      el_quantize_multiplier((double)x->params.scale * (double)fs / (double)out->params.scale, &multiplier[ch],
                             &shift[ch]);
    }
    const qs8_dwconv_pack_params pp = {s->in_shape.d[3], channels, s->kh, s->kw, s->dilation_w,
                                       x->params.zero_point, f->data.int8, b ? b->data.i32 : NULL,
                                       multiplier, shift, 0};
    s->kernel = el_choose_dwconv(kernels, &pp);
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

static TfLiteStatus dw_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                               const el_kernels* kernels, size_t* scratch) {
  (void)scratch;
  dw_state* s = (dw_state*)node->state;
  const TfLiteTensor* f = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  s->out_zp = out->params.zero_point;
  el_act_range(s->activation, out, &s->act_min, &s->act_max);
  s->kh = f->dims->data[1], s->kw = f->dims->data[2];
  s->pad_top = el_pad_before(s->stride_h, s->dilation_h, s->in_shape.d[1], s->kh, s->out_shape.d[1]);
  s->pad_left = el_pad_before(s->stride_w, s->dilation_w, s->in_shape.d[2], s->kw, s->out_shape.d[2]);
  if (s->packed == NULL && weights_prepare(c, node, kernels) != kTfLiteOk) return kTfLiteError;
  if (s->in_shape.d[3] != s->packed_channels) return kTfLiteError; /* packed for another channel count */
  const qs8_dwconv_params p = {s->in_shape.d[1], s->in_shape.d[2], s->in_shape.d[3], s->out_shape.d[2],
                               s->out_shape.d[3], s->kh, s->kw, s->stride_h, s->stride_w, s->dilation_h,
                               s->dilation_w, s->pad_top, s->pad_left, s->out_zp, s->act_min, s->act_max,
                               s->packed};
  s->params = p;
  return kTfLiteOk;
}

typedef struct dw_task {
  const dw_state* s;
  const int8_t* x;
  int8_t* y;
} dw_task;

static void dw_row(void* ctx, size_t task) {
  const dw_task* t = (const dw_task*)ctx;
  const dw_state* s = t->s;
  const int OH = s->out_shape.d[1];
  const size_t b = task / (size_t)OH;
  const int oy = (int)(task % (size_t)OH);
  const size_t image = (size_t)s->in_shape.d[1] * s->in_shape.d[2] * s->in_shape.d[3];
  const size_t row = (size_t)s->out_shape.d[2] * s->out_shape.d[3];
  s->kernel->row(&s->params, t->x + b * image, oy, t->y + (b * OH + (size_t)oy) * row);
}

static void dw_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const dw_state* s = (const dw_state*)node->state;
  dw_task t = {s, el_data(io, node->inputs[0]), el_data(io, node->output)};
  el_parallel_for(io->pool, (size_t)s->in_shape.d[0] * (size_t)s->out_shape.d[1], dw_row, &t);
}

const el_op_def el_op_depthwise_conv_2d = {kTfLiteBuiltinDepthwiseConv2d, "DEPTHWISE_CONV_2D", sizeof(dw_state),
                                           dw_check, dw_init, dw_output_shape, dw_prepare, dw_invoke, dw_release};
