/* Grouped CONV_2D (see grouped_conv.h). One task = one output row of one image. */
#include "grouped_conv.h"

#include <stdlib.h>
#include <string.h>

#include "../kernels/qs8_dwconv.h"
#include "../requantize.h"
#include "kernel_choice.h"

struct el_grouped_conv {
  el_shape in_shape, out_shape;
  const qs8_dwconv_ukernel* dw; /* one input channel per group; else NULL and the grouped loop */
  void* dw_packed;
  qs8_dwconv_params dw_params;
  /* the grouped loop's constants: weights [OC][kh][kw][k], bias, multipliers */
  int8_t* weights;
  int32_t *bias, *multiplier, *shift;
  int k, kh, kw, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t in_zp, out_zp, act_min, act_max;
};

int el_grouped_conv_check(const el_weighted* t, const char** why) {
  const int C = t->x->dims->data[3], k = t->f->dims->data[3], OC = t->out->dims->data[3];
  if (t->f->dims->data[0] != OC) EL_NO("weights do not match the output channels");
  if (k < 1 || C % k != 0) EL_NO("grouped convolution: weights' depth does not divide the input channels");
  if (OC % (C / k) != 0) EL_NO("grouped convolution: groups do not divide the output channels");
  return 1;
}

void el_grouped_conv_release(el_grouped_conv* g) {
  if (g == NULL) return;
  free(g->dw_packed);
  free(g->weights);
  free(g->bias);
  free(g->multiplier);
  free(g->shift);
  free(g);
}

/* The per-channel multipliers (PopulateConvolutionQuantizationParams), the kernel and its packed constants. */
static TfLiteStatus pack_constants(TfLiteContext* c, const el_node* node, const el_window* win,
                                   const el_kernels* kernels, el_grouped_conv* g) {
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* f = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* b = node->n_inputs > 2 ? el_tensor(c, node->inputs[2]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->output);
  const int OC = f->dims->data[0], taps = g->kh * g->kw;
  g->multiplier = (int32_t*)malloc(sizeof(int32_t) * (size_t)OC);
  g->shift = (int32_t*)malloc(sizeof(int32_t) * (size_t)OC);
  g->bias = (int32_t*)calloc((size_t)OC, sizeof(int32_t));
  g->weights = (int8_t*)malloc((size_t)OC * taps * g->k);
  if (!g->multiplier || !g->shift || !g->bias || !g->weights) return kTfLiteError;
  el_conv_multipliers(x, f, out, OC, g->multiplier, g->shift);
  if (b != NULL) memcpy(g->bias, b->data.i32, sizeof(int32_t) * (size_t)OC);
  memcpy(g->weights, f->data.int8, (size_t)OC * taps * g->k);
  if (g->k != 1) return kTfLiteOk;
  /* one input channel per group: a depthwise convolution with depth multiplier OC / C, weights [kh][kw][OC] */
  int8_t* dw_weights = (int8_t*)malloc((size_t)taps * OC);
  if (dw_weights == NULL) return kTfLiteError;
  for (int oc = 0; oc < OC; oc++)
    for (int t = 0; t < taps; t++) dw_weights[(size_t)t * OC + oc] = g->weights[(size_t)oc * taps + t];
  const qs8_dwconv_pack_params pp = {g->in_shape.d[3], OC, g->kh, g->kw, win->dilation_w, g->in_zp, dw_weights,
                                     g->bias, g->multiplier, g->shift, 1};
  TfLiteStatus status = kTfLiteError;
  g->dw = el_choose_dwconv(kernels, &pp);
  if (g->dw != NULL && (g->dw_packed = malloc(g->dw->packed_size(&pp))) != NULL) {
    g->dw->pack(&pp, g->dw_packed);
    status = kTfLiteOk;
  }
  free(dw_weights);
  return status;
}

TfLiteStatus el_grouped_conv_prepare(TfLiteContext* c, const el_node* node, const el_window* win, const el_shape* in,
                                     const el_shape* out_shape, const el_kernels* kernels, el_grouped_conv** gp) {
  const TfLiteTensor* f = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  el_grouped_conv* g = *gp;
  if (g != NULL && g->in_shape.d[3] != in->d[3]) return kTfLiteError; /* packed for another channel count */
  if (g == NULL) {
    g = *gp = (el_grouped_conv*)calloc(1, sizeof *g);
    if (g == NULL) return kTfLiteError;
    g->in_shape = *in;
    g->kh = f->dims->data[1], g->kw = f->dims->data[2], g->k = f->dims->data[3];
    g->in_zp = el_tensor(c, node->inputs[0])->params.zero_point;
    if (pack_constants(c, node, win, kernels, g) != kTfLiteOk) {
      el_grouped_conv_release(g);
      *gp = NULL;
      return kTfLiteError;
    }
  }
  g->in_shape = *in;
  g->out_shape = *out_shape;
  g->stride_h = win->stride_h, g->stride_w = win->stride_w;
  g->dilation_h = win->dilation_h, g->dilation_w = win->dilation_w;
  g->pad_top = el_pad_before(win->stride_h, win->dilation_h, in->d[1], g->kh, out_shape->d[1]);
  g->pad_left = el_pad_before(win->stride_w, win->dilation_w, in->d[2], g->kw, out_shape->d[2]);
  g->out_zp = out->params.zero_point;
  el_act_range(win->activation, out, &g->act_min, &g->act_max);
  if (g->dw != NULL) {
    const qs8_dwconv_params p = {in->d[1], in->d[2], in->d[3], out_shape->d[2], out_shape->d[3], g->kh, g->kw,
                                 g->stride_h, g->stride_w, g->dilation_h, g->dilation_w, g->pad_top, g->pad_left,
                                 g->out_zp, g->act_min, g->act_max, g->dw_packed};
    g->dw_params = p;
  }
  return kTfLiteOk;
}

/* The builtin's reference grouped convolution, one output row: output channel oc reads input channels
 * [group * k, group * k + k), group = oc / (OC / groups); taps outside the image are skipped. */
static void grouped_row(const el_grouped_conv* g, const int8_t* x, int oy, int8_t* y) {
  const int H = g->in_shape.d[1], W = g->in_shape.d[2], C = g->in_shape.d[3];
  const int OW = g->out_shape.d[2], OC = g->out_shape.d[3], k = g->k;
  const int per_group = OC / (C / k);
  for (int ox = 0; ox < OW; ox++) {
    const int iy0 = oy * g->stride_h - g->pad_top, ix0 = ox * g->stride_w - g->pad_left;
    for (int oc = 0; oc < OC; oc++) {
      const int c0 = oc / per_group * k;
      int32_t acc = g->bias[oc];
      for (int ky = 0; ky < g->kh; ky++) {
        const int iy = iy0 + ky * g->dilation_h;
        if (iy < 0 || iy >= H) continue;
        for (int kx = 0; kx < g->kw; kx++) {
          const int ix = ix0 + kx * g->dilation_w;
          if (ix < 0 || ix >= W) continue;
          const int8_t* xp = x + ((size_t)iy * W + ix) * C + c0;
          const int8_t* wp = g->weights + (((size_t)oc * g->kh + ky) * g->kw + kx) * k;
          for (int i = 0; i < k; i++) acc += ((int32_t)xp[i] - g->in_zp) * wp[i];
        }
      }
      const int32_t q = el_requantize(acc, g->multiplier[oc], g->shift[oc]);
      y[(size_t)ox * OC + oc] = (int8_t)el_clamp(q + g->out_zp, g->act_min, g->act_max);
    }
  }
}

typedef struct grouped_task {
  const el_grouped_conv* g;
  const int8_t* x;
  int8_t* y;
} grouped_task;

static void grouped_task_row(void* ctx, size_t task) {
  const grouped_task* t = (const grouped_task*)ctx;
  const el_grouped_conv* g = t->g;
  const el_out_row r = el_nhwc_out_row(&g->in_shape, &g->out_shape, t->x, t->y, task);
  if (g->dw != NULL) g->dw->row(&g->dw_params, r.image, r.oy, r.row);
  else grouped_row(g, r.image, r.oy, r.row);
}

void el_grouped_conv_invoke(const el_grouped_conv* g, const el_node* node, const el_io* io) {
  grouped_task t = {g, el_data(io, node->inputs[0]), el_data(io, node->output)};
  el_parallel_for(io->pool, (size_t)g->in_shape.d[0] * (size_t)g->out_shape.d[1], grouped_task_row, &t);
}
