/* RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR of int8 NHWC, as LiteRT's int8 kernels compute them (both are
 * reference loops there): nearest picks its source index in float32 (GetNearestNeighbor), bilinear weighs the
 * four neighbours with 10-bit fixed-point fractions and rounds the 20-bit sum half away from zero
 * (ResizeBilinearInteger). No rescale: input and output quantization must be equal. Output size constant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct resize_state {
  int align_corners, half_pixel;
  el_shape in_shape, out_shape;
  int32_t* map; /* per output row then column: nearest: the source index; bilinear: the 10-bit position */
} resize_state;

static int resize_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteResizeBilinearParams* p = (const TfLiteResizeBilinearParams*)node->builtin_data;
  if (node->inputs->size != 2 || p == NULL) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  const TfLiteTensor* size = el_tensor(c, node->inputs->data[1]);
  if (!el_is_q8(x) || !el_is_q8(y) || x->dims->size != 4) EL_NO("not 4-D int8 per-tensor");
  if (!el_same_quant(x, y)) EL_NO("input and output quantization differ");
  if (size == NULL || size->type != kTfLiteInt32 || !el_is_const(size) || size->dims->size != 1 ||
      size->dims->data[0] != 2 || size->data.i32[0] < 1 || size->data.i32[1] < 1)
    EL_NO("size not a constant int32 pair");
  if (p->align_corners && p->half_pixel_centers) EL_NO("align_corners with half_pixel_centers");
  return 1;
}

static void resize_init(void* state, const TfLiteNode* node) {
  resize_state* s = (resize_state*)state;
  const TfLiteResizeBilinearParams* p = (const TfLiteResizeBilinearParams*)node->builtin_data;
  s->align_corners = p->align_corners, s->half_pixel = p->half_pixel_centers;
}

static int resize_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  if (ins[0].rank != 4) EL_NO("input is not 4-D");
  const int32_t* size = el_tensor(c, node->inputs[1])->data.i32;
  *o = ins[0];
  o->d[1] = size[0], o->d[2] = size[1];
  return 1;
}

/* GetNearestNeighbor: float32 arithmetic, floor (or round half away from zero with align_corners) */
static int32_t nearest(int i, int32_t in, int32_t out, int align, int half) {
  const float scale = (align && out > 1) ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
  const float offset = half ? 0.5f : 0.0f;
  const float v = ((float)i + offset) * scale;
  int32_t r = align ? (int32_t)roundf(v) : (int32_t)floorf(v);
  if (r > in - 1) r = in - 1;
  if (half && r < 0) r = 0;
  return r;
}

/* ResizeBilinearInteger's 10-bit scale */
static int32_t scale10(int32_t in, int32_t out, int align) {
  if (align && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}

static TfLiteStatus resize_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)c;
  (void)kernels;
  (void)scratch;
  resize_state* s = (resize_state*)node->state;
  s->in_shape = ins[0], s->out_shape = *out;
  free(s->map);
  const int H = out->d[1], W = out->d[2];
  s->map = (int32_t*)malloc(sizeof(int32_t) * (size_t)(H + W));
  if (s->map == NULL) return kTfLiteError;
  const int bilinear = node->code == kTfLiteBuiltinResizeBilinear;
  for (int k = 0; k < H + W; k++) {
    const int i = k < H ? k : k - H;
    const int32_t in = k < H ? ins[0].d[1] : ins[0].d[2], n = k < H ? H : W;
    if (!bilinear) {
      s->map[k] = nearest(i, in, n, s->align_corners, s->half_pixel);
    } else {
      const int32_t sc = scale10(in, n, s->align_corners);
      s->map[k] = s->half_pixel ? i * sc + sc / 2 - (1 << 9) : i * sc;
    }
  }
  return kTfLiteOk;
}

static void resize_release(void* state) {
  resize_state* s = (resize_state*)state;
  free(s->map);
  s->map = NULL;
}

static void nearest_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const resize_state* s = (const resize_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const el_shape *is = &s->in_shape, *os = &s->out_shape;
  const size_t C = (size_t)is->d[3];
  for (int b = 0; b < os->d[0]; b++)
    for (int oy = 0; oy < os->d[1]; oy++) {
      const int8_t* row = x + ((size_t)b * is->d[1] + (size_t)s->map[oy]) * is->d[2] * C;
      for (int ox = 0; ox < os->d[2]; ox++, y += C) memcpy(y, row + (size_t)s->map[os->d[1] + ox] * C, C);
    }
}

/* ComputeInterpolationValuesInteger's bounds of a 10-bit position */
static void bounds(int32_t pos, int32_t in, int32_t* lo, int32_t* hi) {
  *lo = pos / (1 << 10) > 0 ? pos / (1 << 10) : 0;
  *hi = (pos + (1 << 10) - 1) / (1 << 10) < in - 1 ? (pos + (1 << 10) - 1) / (1 << 10) : in - 1;
}

static void bilinear_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const resize_state* s = (const resize_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const el_shape *is = &s->in_shape, *os = &s->out_shape;
  const int C = is->d[3], IW = is->d[2];
  for (int b = 0; b < os->d[0]; b++)
    for (int oy = 0; oy < os->d[1]; oy++) {
      int32_t y0, y1;
      const int32_t py = s->map[oy];
      bounds(py, is->d[1], &y0, &y1);
      const int64_t wy1 = py - (1 << 10) * y0, wy0 = (1 << 10) - wy1;
      const int8_t* r0 = x + ((size_t)b * is->d[1] + (size_t)y0) * IW * C;
      const int8_t* r1 = x + ((size_t)b * is->d[1] + (size_t)y1) * IW * C;
      for (int ox = 0; ox < os->d[2]; ox++) {
        int32_t x0, x1;
        const int32_t px = s->map[os->d[1] + ox];
        bounds(px, IW, &x0, &x1);
        const int64_t wx1 = px - (1 << 10) * x0, wx0 = (1 << 10) - wx1;
        for (int ch = 0; ch < C; ch++, y++) {
          const int64_t acc = r0[x0 * C + ch] * wy0 * wx0 + r1[x0 * C + ch] * wy1 * wx0 +
                              r0[x1 * C + ch] * wy0 * wx1 + r1[x1 * C + ch] * wy1 * wx1;
          /* double rounding build: half away from zero, then C's truncating division */
          *y = (int8_t)((acc + (acc > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
        }
      }
    }
}

const el_op_def el_op_resize_nearest_neighbor = {kTfLiteBuiltinResizeNearestNeighbor, "RESIZE_NEAREST_NEIGHBOR",
                                                 sizeof(resize_state), resize_check, resize_init,
                                                 resize_output_shape, resize_prepare, nearest_invoke,
                                                 resize_release};
const el_op_def el_op_resize_bilinear = {kTfLiteBuiltinResizeBilinear, "RESIZE_BILINEAR", sizeof(resize_state),
                                         resize_check, resize_init, resize_output_shape, resize_prepare,
                                         bilinear_invoke, resize_release};
