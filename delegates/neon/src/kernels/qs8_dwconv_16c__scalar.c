/* qs8 depthwise convolution, blocks of 16 output channels, portable C (an AVX2 clone is picked by the loader
 * on x86-64); the reference every other depthwise variant must equal. Any filter size and depth multiplier,
 * any int8 weight.
 *
 * Packed layout: a header, then int32 bias[OC], multiplier[OC], shift[OC], then int8 weights[kh][kw][OC] as
 * given (the input zero point is subtracted in the tap loop, so padding is simply skipped). */
#include <string.h>

#include "../requantize.h"
#include "qs8_dwconv.h"
#include "multiversion.h"

#define DW_BLOCK 16

typedef struct scalar_header {
  int32_t C, OC, kh, kw, in_zero_point, double_rounding, reserved[2];
} scalar_header;

typedef struct scalar_view {
  const int32_t *bias, *multiplier, *shift;
  const int8_t* weights;
  int32_t in_zero_point;
  int32_t vec_end; /* channels below it requantize like ruy, the rest with double rounding */
} scalar_view;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

size_t qs8_dwconv_16c__scalar_packed_size(const qs8_dwconv_pack_params* pp) {
  return sizeof(scalar_header) + 3 * sizeof(int32_t) * (size_t)pp->OC + round16((size_t)pp->kh * pp->kw * pp->OC);
}

void qs8_dwconv_16c__scalar_pack(const qs8_dwconv_pack_params* pp, void* packed) {
  const scalar_header h = {pp->C, pp->OC, pp->kh, pp->kw, pp->in_zero_point, pp->double_rounding, {0, 0}};
  uint8_t* out = (uint8_t*)packed;
  memcpy(out, &h, sizeof h);
  int32_t* ints = (int32_t*)(void*)(out + sizeof h);
  for (int c = 0; c < pp->OC; c++) {
    ints[c] = pp->bias != NULL ? pp->bias[c] : 0;
    ints[pp->OC + c] = pp->multiplier[c];
    ints[2 * pp->OC + c] = pp->shift[c];
  }
  const size_t wn = (size_t)pp->kh * pp->kw * pp->OC;
  memcpy(ints + 3 * pp->OC, pp->weights, wn);
  memset((uint8_t*)(ints + 3 * pp->OC) + wn, 0, round16(wn) - wn);
}

static scalar_view view_of(const void* packed) {
  scalar_header h;
  memcpy(&h, packed, sizeof h);
  const int32_t* ints = (const int32_t*)(const void*)((const uint8_t*)packed + sizeof h);
  const scalar_view v = {ints, ints + h.OC, ints + 2 * h.OC, (const int8_t*)(ints + 3 * h.OC), h.in_zero_point,
                         h.double_rounding ? 0 : h.OC / 8 * 8};
  return v;
}

/* One block of up to DW_BLOCK channels of one output pixel; accumulators stay in registers across taps. */
static inline void dw_block(const qs8_dwconv_params* p, const scalar_view* v, const int8_t* restrict x, int H, int W,
                            int C, int oy, int ox, int c0, int8_t* restrict yp) {
  const int OC = p->OC;
  const int mult = OC / C;
  const int nb = OC - c0 < DW_BLOCK ? OC - c0 : DW_BLOCK;
  const int32_t zp = v->in_zero_point;
  int32_t acc[DW_BLOCK];
  for (int j = 0; j < DW_BLOCK; j++) acc[j] = j < nb ? v->bias[c0 + j] : 0;
  const int iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
  for (int ky = 0; ky < p->kh; ky++) {
    const int iy = iy0 + ky * p->dilation_h;
    if (iy < 0 || iy >= H) continue;
    for (int kx = 0; kx < p->kw; kx++) {
      const int ix = ix0 + kx * p->dilation_w;
      if (ix < 0 || ix >= W) continue;
      const int8_t* restrict xp = x + ((size_t)iy * W + ix) * C;
      const int8_t* restrict wp = v->weights + ((size_t)ky * p->kw + kx) * OC + c0;
      if (mult == 1 && nb == DW_BLOCK) {
        for (int j = 0; j < DW_BLOCK; j++) acc[j] += (int16_t)(xp[c0 + j] - zp) * (int16_t)wp[j];
      } else {
        for (int j = 0; j < nb; j++) acc[j] += ((int32_t)xp[(c0 + j) / mult] - zp) * wp[j];
      }
    }
  }
  /* LiteRT's depthwise kernel vectorizes whole groups of 8 output channels (ruy-style rounding); channels past
   * the last multiple of 8 go through its scalar tail, which requantizes with gemmlowp's double rounding. */
  const int vec_end = v->vec_end;
  const int split = vec_end - c0 < 0 ? 0 : (vec_end - c0 > nb ? nb : vec_end - c0);
  /* locals for the same reason as the geometry (see qs8_dwconv_16c__scalar) */
  const int32_t* restrict mult_c = v->multiplier + c0;
  const int32_t* restrict shift_c = v->shift + c0;
  const int32_t out_zp = p->out_zero_point, lo = p->act_min, hi = p->act_max;
  int8_t* restrict yc = yp + c0;
  for (int j = 0; j < split; j++) { /* two loops, not a branch per channel, so the first one vectorizes */
    const int32_t q = el_requantize_gemm(acc[j], mult_c[j], shift_c[j]);
    yc[j] = (int8_t)el_clamp(q + out_zp, lo, hi);
  }
  for (int j = split; j < nb; j++) {
    const int32_t q = el_requantize(acc[j], mult_c[j], shift_c[j]);
    yc[j] = (int8_t)el_clamp(q + out_zp, lo, hi);
  }
}

/* The geometry goes to dw_block in locals, not read through p: the int8 stores may alias *p as far as the
 * compiler knows, and reloading p->W in the tap loops kept the AVX2 clone from vectorizing (MobileNetV2
 * 68 -> 91 ms). */
EL_MULTIVERSION
void qs8_dwconv_16c__scalar(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  const int H = p->H, W = p->W, C = p->C, OW = p->OW, OC = p->OC;
  const scalar_view v = view_of(p->packed);
  for (int ox = 0; ox < OW; ox++) {
    int8_t* yp = y_row + (size_t)ox * OC;
    for (int c0 = 0; c0 < OC; c0 += DW_BLOCK) dw_block(p, &v, x, H, W, C, oy, ox, c0, yp);
  }
}

