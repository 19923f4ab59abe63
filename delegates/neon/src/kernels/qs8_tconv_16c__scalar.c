/* qs8 transposed convolution, blocks of 16 output channels, portable C (an AVX2 clone is picked by the loader
 * on x86-64): the reference variant. Any filter size, stride and int8 weight.
 *
 * Packed layout: a header, int32 bias[OC], multiplier[OC], shift[OC], then int8 weights[kh][kw][OC][C] (TFLite's
 * OHWI turned tap-major, so one tap's weights for a block of channels are contiguous; the input zero point is
 * subtracted in the tap loop, so taps landing outside the image are simply never gathered). */
#include <string.h>

#include "../requantize.h"
#include "qs8_tconv.h"
#include "multiversion.h"

#define TC_BLOCK 16

typedef struct tconv_header {
  int32_t C, OC, kh, kw, in_zero_point, vector_channels, reserved[2];
} tconv_header;

typedef struct tconv_view {
  const int32_t *bias, *multiplier, *shift;
  const int8_t* weights;
  int32_t in_zero_point, vector_channels;
} tconv_view;

size_t qs8_tconv_16c__scalar_packed_size(const qs8_tconv_pack_params* pp) {
  return sizeof(tconv_header) + 3 * sizeof(int32_t) * (size_t)pp->OC + (size_t)pp->kh * pp->kw * pp->OC * pp->C;
}

void qs8_tconv_16c__scalar_pack(const qs8_tconv_pack_params* pp, void* packed) {
  const tconv_header h = {pp->C, pp->OC, pp->kh, pp->kw, pp->in_zero_point, pp->vector_channels, {0, 0}};
  uint8_t* out = (uint8_t*)packed;
  memcpy(out, &h, sizeof h);
  int32_t* ints = (int32_t*)(void*)(out + sizeof h);
  for (int c = 0; c < pp->OC; c++) {
    ints[c] = pp->bias != NULL ? pp->bias[c] : 0;
    ints[pp->OC + c] = pp->multiplier[c];
    ints[2 * pp->OC + c] = pp->shift[c];
  }
  int8_t* w = (int8_t*)(ints + 3 * pp->OC);
  const size_t C = (size_t)pp->C;
  for (int oc = 0; oc < pp->OC; oc++)
    for (int ky = 0; ky < pp->kh; ky++)
      for (int kx = 0; kx < pp->kw; kx++)
        memcpy(w + (((size_t)ky * pp->kw + kx) * pp->OC + oc) * C,
               pp->weights + (((size_t)oc * pp->kh + ky) * pp->kw + kx) * C, C);
}

static tconv_view view_of(const void* packed) {
  tconv_header h;
  memcpy(&h, packed, sizeof h);
  const int32_t* ints = (const int32_t*)(const void*)((const uint8_t*)packed + sizeof h);
  const tconv_view v = {ints, ints + h.OC, ints + 2 * h.OC, (const int8_t*)(ints + 3 * h.OC), h.in_zero_point,
                        h.vector_channels};
  return v;
}

/* The input row or column a tap lands from: (o + pad - k) / stride when that divides and lies in [0, n). */
static inline int source_of(int o, int pad, int k, int stride, int n) {
  const int t = o + pad - k;
  if (t < 0 || t % stride != 0) return -1;
  const int i = t / stride;
  return i < n ? i : -1;
}

/* One block of up to TC_BLOCK channels of one output pixel; the accumulators stay in registers across taps. */
static inline void tc_block(const qs8_tconv_params* p, const tconv_view* v, const int8_t* restrict x, int H, int W,
                            int C, int oy, int ox, int c0, int8_t* restrict yp) {
  const int OC = p->OC;
  const int nb = OC - c0 < TC_BLOCK ? OC - c0 : TC_BLOCK;
  const int32_t zp = v->in_zero_point;
  int32_t acc[TC_BLOCK];
  for (int j = 0; j < TC_BLOCK; j++) acc[j] = j < nb ? v->bias[c0 + j] : 0;
  for (int ky = 0; ky < p->kh; ky++) {
    const int iy = source_of(oy, p->pad_top, ky, p->stride_h, H);
    if (iy < 0) continue;
    for (int kx = 0; kx < p->kw; kx++) {
      const int ix = source_of(ox, p->pad_left, kx, p->stride_w, W);
      if (ix < 0) continue;
      const int8_t* restrict xp = x + ((size_t)iy * W + ix) * C;
      const int8_t* restrict wp = v->weights + (((size_t)ky * p->kw + kx) * OC + c0) * C;
      for (int j = 0; j < nb; j++) {
        int32_t s = 0;
        for (int ic = 0; ic < C; ic++) s += ((int32_t)xp[ic] - zp) * wp[(size_t)j * C + ic];
        acc[j] += s;
      }
    }
  }
  const int split = v->vector_channels - c0 < 0 ? 0 : (v->vector_channels - c0 > nb ? nb : v->vector_channels - c0);
  const int32_t* restrict mult_c = v->multiplier + c0;
  const int32_t* restrict shift_c = v->shift + c0;
  const int32_t out_zp = p->out_zero_point, lo = p->act_min, hi = p->act_max;
  int8_t* restrict yc = yp + c0;
  for (int j = 0; j < split; j++)
    yc[j] = (int8_t)el_clamp(el_requantize_gemm(acc[j], mult_c[j], shift_c[j]) + out_zp, lo, hi);
  for (int j = split; j < nb; j++)
    yc[j] = (int8_t)el_clamp(el_requantize(acc[j], mult_c[j], shift_c[j]) + out_zp, lo, hi);
}

/* the geometry goes to tc_block in locals, not through p (see qs8_dwconv_16c__scalar: stores may alias *p) */
EL_MULTIVERSION
void qs8_tconv_16c__scalar(const qs8_tconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  const int H = p->H, W = p->W, C = p->C, OW = p->OW, OC = p->OC;
  const tconv_view v = view_of(p->packed);
  for (int ox = 0; ox < OW; ox++) {
    int8_t* yp = y_row + (size_t)ox * OC;
    for (int c0 = 0; c0 < OC; c0 += TC_BLOCK) tc_block(p, &v, x, H, W, C, oy, ox, c0, yp);
  }
}
