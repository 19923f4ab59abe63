/* DEPTHWISE_CONV_2D through the qs8 depthwise microkernel the node chose at prepare (kernel_choice.h;
 * kernels/qs8_dwconv.h: LiteRT's two roundings, by channel group). One task = one output row of one image;
 * with the project 1x1 fused (fusion.h), one task = a run of row bands, each computed into the worker's scratch
 * and handed to the conv's GEMM at once. */
#include <stdlib.h>
#include <string.h>

#include "../kernels/qs8_dwconv.h"
#include "../requantize.h"
#include "fusion.h"
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
  const el_node* project;           /* the fused 1x1 CONV_2D this node computes too (fusion.h), or NULL */
  size_t band_rows;                 /* output rows per band when fused */
  const el_node* expand;            /* the fused 1x1 CONV_2D making its input (fusion.h, fuse=block), or NULL */
  size_t halo_rows;                 /* with `expand`: the most input rows one band reads */
} dw_state;

/* A band's int8 rows stay in cache (L1 32 KB, L2 1 MB shared on the Pi 4, 512 KB a core on the Pi 5) next to the
 * GEMM's packed weights, while each GEMM call still gets enough rows: the meter put 16 KB bands (and 32 KB halos)
 * at +1.0% / +3.5% (dwconv / block) of MobileNetV2's Pi 5 cycles against unfused, these at +0.0% / +1.4%. */
#define EL_DW_BAND_BYTES 32768
/* With the expand fused, a band's input rows (its halo included): up to twice that, or one output row's worth. */
#define EL_DW_HALO_BYTES 65536

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
    el_conv_multipliers(x, f, out, channels, multiplier, shift);
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
  s->project = s->expand = NULL; /* the partition's fusion passes decide again after every prepare */
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
  const el_out_row r = el_nhwc_out_row(&t->s->in_shape, &t->s->out_shape, t->x, t->y, task);
  t->s->kernel->row(&t->s->params, r.image, r.oy, r.row);
}

int el_dw_fuse_project(el_node* dw, const el_node* conv, int threads, size_t* scratch, const char** why) {
  dw_state* s = (dw_state*)dw->state;
  if (s->kernel == NULL) EL_NO("the depthwise is not prepared");
  if (s->kh != 3 || s->kw != 3) EL_NO("a depthwise filter other than 3x3");
  if (s->stride_h != s->stride_w || s->stride_h > 2 || s->dilation_h != 1 || s->dilation_w != 1)
    EL_NO("a depthwise stride other than 1 or 2, or dilated");
  if (!el_gemm_takes_rows(conv, why)) return 0;
  const size_t row = (size_t)s->out_shape.d[2] * s->out_shape.d[3], OH = (size_t)s->out_shape.d[1];
  size_t band = EL_DW_BAND_BYTES / row;
  band = band < 1 ? 1 : band > OH ? OH : band;
  const size_t need = (size_t)(threads < 1 ? 1 : threads) * band * row;
  *scratch = *scratch > need ? *scratch : need;
  s->band_rows = band;
  s->project = conv;
  return 1;
}

typedef struct band_task {
  const dw_state* s;
  const el_io* io;
  const int8_t* x;
  int8_t* scratch;                 /* one band per task */
  size_t per_task, n_bands, bands; /* bands per task, in all, per image */
} band_task;

static void dw_project_bands(void* ctx, size_t task) {
  const band_task* t = (const band_task*)ctx;
  const dw_state* s = t->s;
  const size_t OH = (size_t)s->out_shape.d[1], OW = (size_t)s->out_shape.d[2];
  const size_t row = OW * (size_t)s->out_shape.d[3];
  const size_t image = (size_t)s->in_shape.d[1] * s->in_shape.d[2] * s->in_shape.d[3];
  int8_t* buf = t->scratch + task * s->band_rows * row;
  const size_t last = (task + 1) * t->per_task < t->n_bands ? (task + 1) * t->per_task : t->n_bands;
  for (size_t band = task * t->per_task; band < last; band++) {
    const size_t b = band / t->bands, y0 = band % t->bands * s->band_rows;
    const size_t y1 = y0 + s->band_rows < OH ? y0 + s->band_rows : OH;
    for (size_t oy = y0; oy < y1; oy++) s->kernel->row(&s->params, t->x + b * image, (int)oy, buf + (oy - y0) * row);
    el_gemm_run_rows(s->project, t->io, b, y0 * OW, y1 * OW, buf, NULL);
  }
}

int el_dw_fuse_expand(el_node* dw, const el_node* expand, int threads, size_t* scratch, const char** why) {
  dw_state* s = (dw_state*)dw->state;
  if (s->project == NULL) EL_NO("the depthwise's project 1x1 is not fused");
  if (s->in_shape.d[0] != 1) EL_NO("a batch of more than one image"); /* (keeps the halo per image simple) */
  if (!el_gemm_takes_rows(expand, why)) return 0;
  const size_t in_row = (size_t)s->in_shape.d[2] * s->in_shape.d[3], stride = (size_t)s->stride_h;
  const size_t row = (size_t)s->out_shape.d[2] * s->out_shape.d[3];
  size_t band = s->band_rows;
  while (band > 1 && ((band - 1) * stride + (size_t)s->kh) * in_row > EL_DW_HALO_BYTES) band--;
  s->band_rows = band;
  s->halo_rows = (band - 1) * stride + (size_t)s->kh;
  const size_t need = (size_t)(threads < 1 ? 1 : threads) * (s->halo_rows * in_row + band * row);
  *scratch = *scratch > need ? *scratch : need;
  s->expand = expand;
  return 1;
}

void el_dw_band_geometry(const el_node* dw, size_t* rows, size_t* halo_rows) {
  const dw_state* s = (const dw_state*)dw->state;
  *rows = s->project ? s->band_rows : 0;
  *halo_rows = s->expand ? s->halo_rows : 0;
}

/* With the expand fused: before each band, the expand's GEMM computes the input rows it reads that are not held
 * yet (consecutive bands share kh - stride rows: moved to the front, not recomputed); the depthwise then reads
 * that buffer as an image of those rows alone (its H and pad_top shifted, so padding is still where it was). */
static void dw_block_bands(void* ctx, size_t task) {
  const band_task* t = (const band_task*)ctx;
  const dw_state* s = t->s;
  const size_t H = (size_t)s->in_shape.d[1], W = (size_t)s->in_shape.d[2], OH = (size_t)s->out_shape.d[1];
  const size_t OW = (size_t)s->out_shape.d[2], in_row = W * (size_t)s->in_shape.d[3];
  const size_t row = OW * (size_t)s->out_shape.d[3];
  int8_t* halo = t->scratch + task * (s->halo_rows * in_row + s->band_rows * row);
  int8_t* buf = halo + s->halo_rows * in_row;
  size_t ha = 0, hb = 0; /* the expand's output rows [ha, hb) are in `halo` */
  const size_t last = (task + 1) * t->per_task < t->n_bands ? (task + 1) * t->per_task : t->n_bands;
  for (size_t band = task * t->per_task; band < last; band++) {
    const size_t y0 = band * s->band_rows, y1 = y0 + s->band_rows < OH ? y0 + s->band_rows : OH;
    const long lo = (long)y0 * s->stride_h - s->pad_top, hi = (long)(y1 - 1) * s->stride_h - s->pad_top + s->kh;
    const size_t a = lo < 0 ? 0 : (size_t)lo, e = hi > (long)H ? H : (size_t)hi;
    if (a >= hb || a < ha) {
      ha = hb = a; /* nothing to keep (a task's first band) */
    } else if (a > ha) {
      memmove(halo, halo + (a - ha) * in_row, (hb - a) * in_row);
      ha = a;
    }
    if (e > hb) {
      el_gemm_run_rows(s->expand, t->io, 0, hb * W, e * W, NULL, halo + (hb - ha) * in_row);
      hb = e;
    }
    qs8_dwconv_params p = s->params; /* rows [a, e) of the image, at halo */
    p.H = (int)(e - a);
    p.pad_top = s->pad_top + (int)a - (int)y0 * s->stride_h;
    for (size_t oy = y0; oy < y1; oy++) s->kernel->row(&p, halo, (int)(oy - y0), buf + (oy - y0) * row);
    el_gemm_run_rows(s->project, t->io, 0, y0 * OW, y1 * OW, buf, NULL);
  }
}

static void dw_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  const dw_state* s = (const dw_state*)node->state;
  if (s->project != NULL) {
    const size_t bands = ((size_t)s->out_shape.d[1] + s->band_rows - 1) / s->band_rows;
    const size_t n_bands = (size_t)s->in_shape.d[0] * bands, threads = (size_t)el_pool_threads(io->pool);
    const size_t tasks = threads < n_bands ? threads : n_bands; /* (scratch holds `threads` bands) */
    band_task t = {s, io, el_data(io, node->inputs[0]), scratch, (n_bands + tasks - 1) / tasks, n_bands, bands};
    el_parallel_for(io->pool, (n_bands + t.per_task - 1) / t.per_task, s->expand ? dw_block_bands : dw_project_bands,
                    &t);
    return;
  }
  dw_task t = {s, el_data(io, node->inputs[0]), el_data(io, node->output)};
  el_parallel_for(io->pool, (size_t)s->in_shape.d[0] * (size_t)s->out_shape.d[1], dw_row, &t);
}

const el_op_def el_op_depthwise_conv_2d = {kTfLiteBuiltinDepthwiseConv2d, "DEPTHWISE_CONV_2D", sizeof(dw_state),
                                           dw_check, dw_init, dw_output_shape, dw_prepare, dw_invoke, dw_release};
