/* qs8 transposed convolution for ARMv8.0 Advanced SIMD (Pi 4, Cortex-A72; the Pi 5's A76 runs it as is). Any
 * filter size, stride and int8 weight (-128 included: products are widened to int32 at once).
 *
 * Like qs8_tconv_16c__scalar it gathers, per output pixel and block of 16 output channels, the taps that land on
 * it; per landing tap and input channel ic:
 *
 *     SXTL   w.8h x 2 = the 16 weights of ic    one 16-byte load, widened
 *     SMLAL (by element) acc.4s x 4 += w * x  16 MACs into 4 int32 vectors, one output channel per lane; the
 *                                             input values, 8 at a time, widened minus the zero point (int16:
 *                                             |x - zp| <= 255), are the multiplier lanes
 *
 * so a block ends without cross-lane reductions. Requantization as the scalar variant (and the builtin): ruy's
 * on channels below vector_channels (whole blocks of 16 in NEON: el_requant16_row), double rounding on the
 * rest (scalar). A block of channels is the outer loop of a row, so its constants are loaded once.
 *
 * Packed layout: a header, int32 bias[ceil(OC / 16) * 16] (zero past OC), multiplier[OC], shift[OC], then int8
 * weights [kh][kw][ceil(OC / 16)][C][16] (channels past OC zero).
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "../requantize.h"
#include "qs8_requantize_neon.h"
#include "qs8_tconv.h"

enum { CT = 16 };

typedef struct mlal_header {
  int32_t C, OC, kh, kw, in_zero_point, vector_channels, blocks, reserved;
} mlal_header;

size_t qs8_tconv_16c__neon_mlal_packed_size(const qs8_tconv_pack_params* pp) {
  const size_t blocks = ((size_t)pp->OC + CT - 1) / CT;
  return sizeof(mlal_header) + sizeof(int32_t) * (blocks * CT + 2 * (size_t)pp->OC) +
         (size_t)pp->kh * pp->kw * blocks * pp->C * CT;
}

void qs8_tconv_16c__neon_mlal_pack(const qs8_tconv_pack_params* pp, void* packed) {
  const int blocks = (pp->OC + CT - 1) / CT;
  const mlal_header h = {pp->C, pp->OC, pp->kh, pp->kw, pp->in_zero_point, pp->vector_channels, blocks, 0};
  uint8_t* out = (uint8_t*)packed;
  memcpy(out, &h, sizeof h);
  int32_t* ints = (int32_t*)(void*)(out + sizeof h);
  int32_t* mult = ints + blocks * CT;
  for (int c = 0; c < blocks * CT; c++) ints[c] = pp->bias != NULL && c < pp->OC ? pp->bias[c] : 0;
  for (int c = 0; c < pp->OC; c++) {
    mult[c] = pp->multiplier[c];
    mult[pp->OC + c] = pp->shift[c];
  }
  int8_t* w = (int8_t*)(mult + 2 * pp->OC);
  const size_t C = (size_t)pp->C;
  for (int t = 0; t < pp->kh * pp->kw; t++)
    for (int b = 0; b < blocks; b++)
      for (size_t ic = 0; ic < C; ic++)
        for (int j = 0; j < CT; j++) {
          const int oc = b * CT + j;
          *w++ = oc < pp->OC ? pp->weights[((size_t)oc * pp->kh * pp->kw + (size_t)t) * C + ic] : 0;
        }
}

static inline int source_of(int o, int pad, int k, int stride, int n) {
  const int t = o + pad - k;
  if (t < 0 || t % stride != 0) return -1;
  const int i = t / stride;
  return i < n ? i : -1;
}

/* acc[0..3] += the 16 weights of one input channel times lane L of xv (an input value minus the zero point) */
#define TC_MAC_LANE(L)                                                  \
  do {                                                                  \
    const int8x16_t w8 = vld1q_s8(wp + (size_t)(ic + (L)) * CT);        \
    const int16x8_t wl = vmovl_s8(vget_low_s8(w8)), wh = vmovl_high_s8(w8); \
    acc[0] = vmlal_laneq_s16(acc[0], vget_low_s16(wl), xv, L);         \
    acc[1] = vmlal_high_laneq_s16(acc[1], wl, xv, L);                  \
    acc[2] = vmlal_laneq_s16(acc[2], vget_low_s16(wh), xv, L);         \
    acc[3] = vmlal_high_laneq_s16(acc[3], wh, xv, L);                  \
  } while (0)

void qs8_tconv_16c__neon_mlal(const qs8_tconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  mlal_header h;
  memcpy(&h, p->packed, sizeof h);
  const int32_t* bias = (const int32_t*)(const void*)((const uint8_t*)p->packed + sizeof h);
  const int32_t* mult = bias + h.blocks * CT;
  const int32_t* shift = mult + h.OC;
  const int8_t* weights = (const int8_t*)(shift + h.OC);
  const int H = p->H, W = p->W, C = p->C, OW = p->OW, OC = p->OC;
  const size_t tap_bytes = (size_t)h.blocks * C * CT;
  const int16x8_t zp8 = vdupq_n_s16((int16_t)h.in_zero_point);
  const int16x8_t out_zp = vdupq_n_s16((int16_t)p->out_zero_point);
  const int8x16_t act_min = vdupq_n_s8((int8_t)p->act_min), act_max = vdupq_n_s8((int8_t)p->act_max);
  for (int b = 0; b < h.blocks; b++) { /* block outer: its requantization constants loaded once per row */
    const int c0 = b * CT;
    const int nb = OC - c0 < CT ? OC - c0 : CT;
    const int vector_block = nb == CT && c0 + CT <= h.vector_channels;
    const qs8_gemm_params gp = {mult, shift, 0, 0, 0, NULL, NULL, 0};
    el_requant16 q;
    if (vector_block) q = el_requant16_load(&gp, (size_t)c0, CT);
    for (int ox = 0; ox < OW; ox++) {
      int32x4_t acc[4];
      for (int i = 0; i < 4; i++) acc[i] = vld1q_s32(bias + c0 + 4 * i);
      for (int ky = 0; ky < p->kh; ky++) {
        const int iy = source_of(oy, p->pad_top, ky, p->stride_h, H);
        if (iy < 0) continue;
        for (int kx = 0; kx < p->kw; kx++) {
          const int ix = source_of(ox, p->pad_left, kx, p->stride_w, W);
          if (ix < 0) continue;
          const int8_t* xp = x + ((size_t)iy * W + ix) * C;
          const int8_t* wp = weights + ((size_t)ky * p->kw + kx) * tap_bytes + (size_t)b * C * CT;
          int ic = 0;
          for (; ic + 8 <= C; ic += 8) {
            const int16x8_t xv = vsubq_s16(vmovl_s8(vld1_s8(xp + ic)), zp8);
            TC_MAC_LANE(0);
            TC_MAC_LANE(1);
            TC_MAC_LANE(2);
            TC_MAC_LANE(3);
            TC_MAC_LANE(4);
            TC_MAC_LANE(5);
            TC_MAC_LANE(6);
            TC_MAC_LANE(7);
          }
          for (; ic < C; ic++) {
            const int16x8_t xv = vdupq_n_s16((int16_t)(xp[ic] - h.in_zero_point));
            TC_MAC_LANE(0); /* the value broadcast: lane 0, and (ic + 0) is this channel's weights */
          }
        }
      }
      int8_t* yp = y_row + (size_t)ox * OC + c0;
      if (vector_block) {
        vst1q_s8(yp, el_requant16_row(1, &q, acc, out_zp, act_min, act_max));
        continue;
      }
      int32_t a[CT];
      for (int i = 0; i < 4; i++) vst1q_s32(a + 4 * i, acc[i]);
      for (int j = 0; j < nb; j++) {
        const int c = c0 + j;
        const int32_t r = c < h.vector_channels ? el_requantize_gemm(a[j], mult[c], shift[c])
                                                : el_requantize(a[j], mult[c], shift[c]);
        yp[j] = (int8_t)el_clamp(r + p->out_zero_point, p->act_min, p->act_max);
      }
    }
  }
}

#endif /* __aarch64__ */
