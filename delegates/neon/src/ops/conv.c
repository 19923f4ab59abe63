/* CONV_2D and FULLY_CONNECTED: int8 GEMM (im2col, or straight on the input for 1x1 stride-1 convs) through
 * the qs8 GEMM microkernel the node chose at prepare (kernel_choice.h); requantization inside the kernel.
 * A grouped CONV_2D (weights shallower than the input) goes to grouped_conv.c instead. */
#include <stdlib.h>
#include <string.h>

#include "../kernels/qs8_gemm.h"
#include "../requantize.h"
#include "fusion.h"
#include "grouped_conv.h"
#include "kernel_choice.h"
#include "util.h"

typedef struct gemm_state {
  int padding, stride_w, stride_h, dilation_w, dilation_h, activation;
  el_shape in_shape, out_shape;
  int32_t in_zp, out_zp, act_min, act_max;
  int32_t* multiplier; /* [n] */
  int32_t* shift;
  void* packed; /* the chosen variant's packed weights (packed once) */
  const qs8_gemm_ukernel* gemm;
  int kh, kw, k, n;
  int pad_top, pad_left;
  int direct; /* conv 1x1, stride 1, no padding: GEMM straight on the input */
  int keep_num_dims; /* FULLY_CONNECTED: the input's shape with the last dimension the units, else [batch, units] */
  el_grouped_conv* grouped; /* a grouped CONV_2D: computed there, none of the above is used */
  int fused;                /* the residual ADD in the epilogue (fusion.h): written to fused_output, not output */
  int fused_residual, fused_output;
  qs8_vbinary_params fused_add;
} gemm_state;

/* ---- checks ---- */

static int conv_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  el_weighted t;
  if (!el_weighted_tensors(c, node, 4, 4, &t, why)) return 0;
  const TfLiteConvParams* p = (const TfLiteConvParams*)node->builtin_data;
  if (p == NULL) EL_NO("no options");
  const int oc = t.out->dims->data[3];
  if (t.f->dims->data[0] != oc) EL_NO("weights do not match the output channels");
  if (t.f->dims->data[3] != t.x->dims->data[3] && !el_grouped_conv_check(&t, why)) return 0;
  if ((*why = el_filter_problem(t.f, oc, 0)) != NULL) return 0;
  if (!el_bias_ok(t.b, oc)) EL_NO("bias not constant int32");
  return el_window_ok(p->padding, p->stride_width, p->stride_height, p->dilation_width_factor,
                      p->dilation_height_factor, p->activation, &t, why);
}

static int fc_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  el_weighted t;
  if (!el_weighted_tensors(c, node, 0, 2, &t, why)) return 0;
  const TfLiteTensor *x = t.x, *f = t.f, *b = t.b, *out = t.out;
  const TfLiteFullyConnectedParams* p = (const TfLiteFullyConnectedParams*)node->builtin_data;
  if (p == NULL || p->weights_format != 0 || !el_act_ok(p->activation)) EL_NO("unsupported options");
  const int units = f->dims->data[0], k = f->dims->data[1];
  if ((*why = el_filter_problem(f, units, 0)) != NULL) return 0;
  if (!el_bias_ok(b, units)) EL_NO("bias not constant int32");
  const el_shape xs = el_tensor_shape(x), os = el_tensor_shape(out);
  if (k <= 0 || el_shape_elements(&xs) % (size_t)k != 0) EL_NO("input size not a multiple of the weights' depth");
  if (os.d[os.rank - 1] != units || el_shape_elements(&os) != el_shape_elements(&xs) / (size_t)k * (size_t)units)
    EL_NO("unexpected output shape");
  return 1;
}

/* ---- init / shapes ---- */

static void conv_init(void* state, const TfLiteNode* node) {
  gemm_state* s = (gemm_state*)state;
  const TfLiteConvParams* p = (const TfLiteConvParams*)node->builtin_data;
  s->padding = p->padding, s->stride_w = p->stride_width, s->stride_h = p->stride_height;
  s->dilation_w = p->dilation_width_factor, s->dilation_h = p->dilation_height_factor;
  s->activation = p->activation;
}

static void fc_init(void* state, const TfLiteNode* node) {
  gemm_state* s = (gemm_state*)state;
  const TfLiteFullyConnectedParams* p = (const TfLiteFullyConnectedParams*)node->builtin_data;
  s->activation = p->activation;
  s->keep_num_dims = p->keep_num_dims;
  s->stride_w = s->stride_h = s->dilation_w = s->dilation_h = 1;
}

static int conv_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                             const char** why) {
  (void)c;
  const gemm_state* s = (const gemm_state*)node->state;
  const el_shape* x = &ins[0];
  const el_shape* f = &ins[1];
  if (x->rank != 4) EL_NO("input is not 4-D");
  if (f->d[3] < 1 || x->d[3] % f->d[3] != 0 || f->d[0] % (x->d[3] / f->d[3]) != 0)
    EL_NO("input channels do not match the weights' groups");
  o->rank = 4;
  o->d[0] = x->d[0];
  o->d[1] = el_out_size(s->padding, x->d[1], f->d[1], s->stride_h, s->dilation_h);
  o->d[2] = el_out_size(s->padding, x->d[2], f->d[2], s->stride_w, s->dilation_w);
  o->d[3] = f->d[0];
  if (o->d[1] <= 0 || o->d[2] <= 0) EL_NO("input smaller than the filter");
  return 1;
}

/* TFLite's rule (fully_connected.cc): keep_num_dims keeps the input's shape, the last dimension (which must
 * be the weights' depth) becoming the units; otherwise the input flattens to [size / depth, units]. */
static int fc_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                           const char** why) {
  (void)c;
  const gemm_state* s = (const gemm_state*)node->state;
  const el_shape* x = &ins[0];
  const int units = ins[1].d[0], k = ins[1].d[1];
  const size_t n = el_shape_elements(x);
  if (ins[1].rank != 2 || k <= 0 || n % (size_t)k != 0) EL_NO("input size not a multiple of the weights' depth");
  if (s->keep_num_dims) {
    if (x->rank < 1 || x->d[x->rank - 1] != k) EL_NO("last input dimension differs from the weights' depth");
    *o = *x;
    o->d[o->rank - 1] = units;
  } else {
    memset(o, 0, sizeof *o);
    o->rank = 2;
    o->d[0] = (int)(n / (size_t)k);
    o->d[1] = units;
  }
  return 1;
}

/* ---- prepare ---- */

static void gemm_release(void* state) {
  gemm_state* s = (gemm_state*)state;
  free(s->multiplier);
  free(s->shift);
  free(s->packed);
  el_grouped_conv_release(s->grouped);
  s->multiplier = s->shift = NULL;
  s->packed = NULL;
  s->grouped = NULL;
}

/* Multipliers, the kernel choice and the packed weights are constant: done at the first prepare only;
 * shape-dependent geometry is recomputed at every prepare (the runtime calls it again after a resize). */
static TfLiteStatus gemm_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                 const el_kernels* kernels, size_t* scratch) {
  gemm_state* s = (gemm_state*)node->state;
  s->fused = 0; /* the partition's fusion pass decides again after every prepare */
  const int fc = node->code == kTfLiteBuiltinFullyConnected;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* f = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* b = node->n_inputs > 2 ? el_tensor(c, node->inputs[2]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->output);
  if (!fc && f->dims->data[3] != ins[0].d[3]) {
    const el_window win = {s->padding, s->stride_w, s->stride_h, s->dilation_w, s->dilation_h, s->activation};
    return el_grouped_conv_prepare(c, node, &win, &ins[0], out_shape, kernels, &s->grouped);
  }
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  s->in_zp = x->params.zero_point;
  s->out_zp = out->params.zero_point;
  el_act_range(s->activation, out, &s->act_min, &s->act_max);
  const int channels = fc ? f->dims->data[0] : out_shape->d[3];
  s->n = channels;
  if (fc) {
    s->k = f->dims->data[1];
  } else {
    s->kh = f->dims->data[1], s->kw = f->dims->data[2];
    s->k = s->kh * s->kw * s->in_shape.d[3];
    s->pad_top = el_pad_before(s->stride_h, s->dilation_h, s->in_shape.d[1], s->kh, s->out_shape.d[1]);
    s->pad_left = el_pad_before(s->stride_w, s->dilation_w, s->in_shape.d[2], s->kw, s->out_shape.d[2]);
    s->direct = s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_top == 0 &&
                s->pad_left == 0 && s->in_shape.d[1] == s->out_shape.d[1] && s->in_shape.d[2] == s->out_shape.d[2];
    if (!s->direct) {
      const size_t need = (size_t)s->out_shape.d[1] * s->out_shape.d[2] * (size_t)s->k;
      *scratch = *scratch > need ? *scratch : need;
    }
  }
  if (s->packed != NULL) return kTfLiteOk;
  const TfLiteAffineQuantization* fq = el_affine(f);
  s->multiplier = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  s->shift = (int32_t*)malloc(sizeof(int32_t) * (size_t)channels);
  if (!s->multiplier || !s->shift) {
    gemm_release(s);
    return kTfLiteError;
  }
  if (fc && fq->scale->size == 1) { /* GetQuantizedConvolutionMultipler: the scale product in float */
    const double real = (double)(x->params.scale * fq->scale->data[0]) / (double)out->params.scale;
    for (int ch = 0; ch < channels; ch++) el_quantize_multiplier(real, &s->multiplier[ch], &s->shift[ch]);
  } else {
    el_conv_multipliers(x, f, out, channels, s->multiplier, s->shift);
  }
  const size_t rows = fc ? el_shape_elements(&s->in_shape) / (size_t)s->k
                        : (size_t)s->out_shape.d[1] * (size_t)s->out_shape.d[2];
  const el_gemm_problem problem = {(size_t)channels, (size_t)s->k, f->data.int8, rows};
  s->gemm = el_choose_gemm(kernels, &problem);
  if (s->gemm == NULL) {
    gemm_release(s);
    return kTfLiteError;
  }
  s->packed = malloc(s->gemm->packed_size((size_t)channels, (size_t)s->k) + 64);
  if (!s->packed) {
    gemm_release(s);
    return kTfLiteError;
  }
  s->gemm->pack((size_t)channels, (size_t)s->k, f->data.int8, b ? b->data.i32 : NULL, s->in_zp, s->packed);
  return kTfLiteOk;
}

int el_gemm_fuse_add(el_node* gemm, int residual, int output, const qs8_vbinary_params* add, const char** why) {
  gemm_state* s = (gemm_state*)gemm->state;
  if (s->grouped != NULL || s->gemm == NULL) EL_NO("a grouped convolution");
  int dense = 0;
  for (const qs8_gemm_ukernel* u = qs8_gemm_ukernels; u->name != NULL; u++) dense |= u == s->gemm;
  if (!dense) EL_NO("a block-sparse GEMM (no fused epilogue)");
  s->fused = 1;
  s->fused_residual = residual;
  s->fused_output = output;
  s->fused_add = *add;
  return 1;
}

/* The parameters of one GEMM call over output rows from r0 (the fused ADD's residual rows with them). */
static qs8_gemm_params gemm_params(const gemm_state* s, const int8_t* residual, size_t r0) {
  const qs8_gemm_params gp = {s->multiplier, s->shift, s->out_zp, s->act_min, s->act_max,
                              s->fused ? &s->fused_add : NULL, s->fused ? residual + r0 * (size_t)s->n : NULL,
                              (size_t)s->n};
  return gp;
}

int el_gemm_takes_rows(const el_node* conv, const char** why) {
  const gemm_state* s = (const gemm_state*)conv->state;
  if (conv->code != kTfLiteBuiltinConv2d) EL_NO("not a CONV_2D");
  if (s->grouped != NULL || s->gemm == NULL) EL_NO("a grouped convolution");
  if (!s->direct) EL_NO("the CONV_2D is not 1x1, stride 1, unpadded");
  return 1;
}

void el_gemm_run_rows(const el_node* conv, const el_io* io, size_t b, size_t r0, size_t r1, const int8_t* a,
                      int8_t* y) {
  const gemm_state* s = (const gemm_state*)conv->state;
  const size_t M = (size_t)s->out_shape.d[1] * s->out_shape.d[2], n = (size_t)s->n, k = (size_t)s->k;
  if (a == NULL) a = el_data(io, conv->inputs[0]) + (b * M + r0) * k; /* (direct: one input row per pixel) */
  const int8_t* res = s->fused && y == NULL ? el_data(io, s->fused_residual) + b * M * n : NULL;
  const qs8_gemm_params gp = gemm_params(s, res, r0);
  if (y == NULL) y = el_data(io, s->fused ? s->fused_output : conv->output) + (b * M + r0) * n;
  s->gemm->run(r1 - r0, n, k, a, k, s->packed, y, n, &gp);
}

/* ---- invoke ---- */

typedef struct conv_task {
  const gemm_state* s;
  const int8_t* xb;
  const int8_t* res; /* the fused ADD's residual for this batch, or NULL */
  int8_t* yb;
  int8_t* col;
  size_t rows_per_task, M;
} conv_task;

/* memcpy for the few bytes of a first layer's pixel (3 channels x 3 taps): fixed-size, overlapping copies the
 * compiler inlines as plain loads and stores instead of a libc call per tap (3.9 M of 66 M estimated Pi 4
 * cycles on MobileNetV2 before). */
static inline void el_copy_short(int8_t* restrict dst, const int8_t* restrict src, size_t n) {
  if (n >= 8 && n <= 16) {
    memcpy(dst, src, 8);
    memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    memcpy(dst, src, 4);
    memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n < 4) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
  } else {
    memcpy(dst, src, n);
  }
}

/* rows [r0, r1) of the output: im2col them (padding holds the input zero point, which adds nothing after
 * the folded zero-point term), then one GEMM call */
static void conv_rows(void* ctx, size_t task) {
  const conv_task* t = (const conv_task*)ctx;
  const gemm_state* s = t->s;
  const int H = s->in_shape.d[1], W = s->in_shape.d[2], C = s->in_shape.d[3];
  const int OW = s->out_shape.d[2], OC = s->out_shape.d[3];
  const size_t r0 = task * t->rows_per_task;
  const size_t r1 = r0 + t->rows_per_task < t->M ? r0 + t->rows_per_task : t->M;
  if (r0 >= r1) return;
  const qs8_gemm_params gp = gemm_params(s, t->res, r0);
  if (s->direct) {
    s->gemm->run(r1 - r0, (size_t)OC, (size_t)C, t->xb + r0 * C, (size_t)C, s->packed, t->yb + r0 * OC, (size_t)OC,
                 &gp);
    return;
  }
  const int8_t pad = (int8_t)s->in_zp;
  const size_t span = (size_t)s->kw * C; /* one filter row of a pixel, contiguous when dilation_w is 1 */
  int oy = (int)(r0 / (size_t)OW), ox = (int)(r0 % (size_t)OW); /* stepped, not divided, per row */
  for (size_t r = r0; r < r1; r++) {
    int8_t* row = t->col + r * (size_t)s->k;
    const int iy0 = oy * s->stride_h - s->pad_top, ix0 = ox * s->stride_w - s->pad_left;
    const int inside_w = s->dilation_w == 1 && ix0 >= 0 && ix0 + s->kw <= W;
    for (int ky = 0; ky < s->kh; ky++) {
      const int iy = iy0 + ky * s->dilation_h;
      int8_t* dst = row + (size_t)ky * span;
      if (iy < 0 || iy >= H) {
        memset(dst, pad, span);
      } else if (inside_w) {
        el_copy_short(dst, t->xb + ((size_t)iy * W + ix0) * C, span);
      } else {
        for (int kx = 0; kx < s->kw; kx++) {
          const int ix = ix0 + kx * s->dilation_w;
          if (ix < 0 || ix >= W) memset(dst + (size_t)kx * C, pad, (size_t)C);
          else el_copy_short(dst + (size_t)kx * C, t->xb + ((size_t)iy * W + ix) * C, (size_t)C);
        }
      }
    }
    if (++ox == OW) ox = 0, oy++;
  }
  s->gemm->run(r1 - r0, (size_t)OC, (size_t)s->k, t->col + r0 * (size_t)s->k, (size_t)s->k, s->packed,
               t->yb + r0 * OC, (size_t)OC, &gp);
}

static void conv_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  const gemm_state* s = (const gemm_state*)node->state;
  if (s->grouped != NULL) {
    el_grouped_conv_invoke(s->grouped, node, io);
    return;
  }
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, s->fused ? s->fused_output : node->output);
  const int8_t* res = s->fused ? el_data(io, s->fused_residual) : NULL;
  const int B = s->in_shape.d[0], H = s->in_shape.d[1], W = s->in_shape.d[2], C = s->in_shape.d[3];
  const int OH = s->out_shape.d[1], OW = s->out_shape.d[2], OC = s->out_shape.d[3];
  const size_t M = (size_t)OH * OW;
  const size_t threads = (size_t)el_pool_threads(io->pool);
  size_t per = (M + threads - 1) / threads;
  per = per < 16 ? 16 : (per + 1) / 2 * 2; /* whole 2-row tiles */
  for (int b = 0; b < B; b++) {
    conv_task t = {s, x + (size_t)b * H * W * C, res ? res + (size_t)b * M * OC : NULL, y + (size_t)b * M * OC,
                   scratch, per, M};
    el_parallel_for(io->pool, (M + per - 1) / per, conv_rows, &t);
  }
}

static void fc_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const gemm_state* s = (const gemm_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, s->fused ? s->fused_output : node->output);
  const size_t batches = el_shape_elements(&s->in_shape) / (size_t)s->k;
  const qs8_gemm_params gp = gemm_params(s, s->fused ? el_data(io, s->fused_residual) : NULL, 0);
  s->gemm->run(batches, (size_t)s->n, (size_t)s->k, x, (size_t)s->k, s->packed, y, (size_t)s->n, &gp);
}

const el_op_def el_op_conv_2d = {kTfLiteBuiltinConv2d, "CONV_2D", sizeof(gemm_state), conv_check, conv_init,
                                 conv_output_shape, gemm_prepare, conv_invoke, gemm_release};
const el_op_def el_op_fully_connected = {kTfLiteBuiltinFullyConnected, "FULLY_CONNECTED", sizeof(gemm_state),
                                         fc_check, fc_init, fc_output_shape, gemm_prepare, fc_invoke, gemm_release};
