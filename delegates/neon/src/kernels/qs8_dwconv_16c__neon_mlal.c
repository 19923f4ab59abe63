/* qs8 depthwise convolution for ARMv8.0 Advanced SIMD (Pi 4, Cortex-A72; the Pi 5's A76 runs it as is: SDOT
 * reduces 4 neighbouring bytes, and a depthwise sum runs across taps, not channels). Depth multiplier 1.
 *
 *   qs8_dwconv_3x3_16c__neon_mlal   3x3: the 9 weight vectors of a channel group stay in registers
 *   qs8_dwconv_5x5_16c__neon_mlal   5x5: all 25 taps unrolled, weights read from the packed group
 *   qs8_dwconv_kxk_16c__neon_mlal   any kh, kw <= 16 (1x1, 3x1, 7x7 ...)
 *
 * One output row per call, a channel group of 16 at a time across the whole row (group outer, pixel inner),
 * every tap of a pixel in one pass. Per pair of taps and 16 channels:
 *
 *     SMULL / SMULL2  p.8h = x0 * w0         two products share one int16 lane: |x * w| <= 128 * 127, so
 *     SMLAL / SMLAL2  p.8h += x1 * w1        2 * 16256 < 32767 as long as weights stay in [-127, 127]
 *     SADDW / SADDW2  acc.4s += p            (TFLite's int8 weight spec; a node with a -128 goes scalar)
 *
 * The input zero point is folded into the packed bias (bias - zp * sum of the channel's taps), so a padded tap
 * reads a row of zero points (kept in the packed buffer) and contributes nothing; no branch in the tap loop.
 * Pixels whose taps all lie inside the row step their row pointers by the stride; the few at the edges get
 * one pointer per tap, real or into the zero-point row.
 *
 * Requantization: ruy's (SQRDMULH, then SRSHL; a left shift first where a multiplier needs one) on the
 * channels below the last multiple of 8, gemmlowp's double rounding (el_requantize, scalar) on the rest, as
 * LiteRT's depthwise kernel does; with pack_params.double_rounding (a grouped CONV_2D) double rounding on every
 * channel, in NEON too (FLAG_DOUBLE_ROUNDING); then saturating narrow to int16, + zero point, narrow to int8,
 * clamp (the same result as clamping the int32 sum: every saturation lands outside [act_min, act_max] on the
 * same side).
 *
 * Packed layout: header; the zero-point row ((kw - 1) * dilation_w * C + C bytes, rounded up to 16); then per
 * group of 16 channels (the last padded with zero weights): int32 bias'[16], multiplier[16], max(shift, 0)[16],
 * min(shift, 0)[16]; int8 w[kh * kw][16].
 */
/* aarch64 only: on other architectures this file compiles to nothing (a glob of kernels/ is safe). */
#if defined(__aarch64__)

#include <arm_neon.h>
#include <string.h>

#include "../requantize.h"
#include "qs8_dwconv.h"

enum { CT = 16, MAXK = 16, PARAMS_BYTES = 4 * CT * (int)sizeof(int32_t) };
/* MODE bits of the requantization (compile-time in the sweeps): a left shift first; gemmlowp's double rounding
 * (a grouped CONV_2D's rule, pack_params.double_rounding) instead of ruy's: SQRDMULH equals gemmlowp's
 * SaturatingRoundingDoublingHighMul, and its RoundingDivideByPOT is SRSHL after subtracting 1 from negative
 * values (ties away from zero), as TFLite's own NEON code does it. */
enum { FLAG_LEFT_SHIFT = 1, FLAG_DOUBLE_ROUNDING = 2 };

typedef struct mlal_header {
  int32_t C, kh, kw, flags, zero_bytes, reserved[3];
} mlal_header;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }
static size_t zero_bytes(const qs8_dwconv_pack_params* pp) {
  return round16((size_t)(pp->kw - 1) * pp->dilation_w * pp->C + pp->C);
}
static size_t group_bytes(int taps) { return PARAMS_BYTES + (size_t)taps * CT; }

size_t qs8_dwconv_16c__neon_mlal_packed_size(const qs8_dwconv_pack_params* pp) {
  const size_t groups = ((size_t)pp->C + CT - 1) / CT;
  return sizeof(mlal_header) + zero_bytes(pp) + groups * group_bytes(pp->kh * pp->kw);
}

void qs8_dwconv_16c__neon_mlal_pack(const qs8_dwconv_pack_params* pp, void* packed) {
  const int C = pp->C, taps = pp->kh * pp->kw;
  mlal_header h = {C, pp->kh, pp->kw, 0, (int32_t)zero_bytes(pp), {0, 0, 0}};
  for (int c = 0; c < C; c++)
    if (pp->shift[c] > 0) h.flags |= FLAG_LEFT_SHIFT;
  if (pp->double_rounding) h.flags |= FLAG_DOUBLE_ROUNDING;
  uint8_t* out = (uint8_t*)packed;
  memcpy(out, &h, sizeof h);
  out += sizeof h;
  memset(out, (uint8_t)(int8_t)pp->in_zero_point, (size_t)h.zero_bytes);
  out += h.zero_bytes;
  for (int c0 = 0; c0 < C; c0 += CT) {
    int32_t params[4][CT] = {{0}};
    int8_t* w = (int8_t*)(out + PARAMS_BYTES);
    memset(w, 0, (size_t)taps * CT);
    for (int j = 0; j < CT && c0 + j < C; j++) {
      const int c = c0 + j;
      uint32_t wsum = 0;
      for (int t = 0; t < taps; t++) {
        w[t * CT + j] = pp->weights[(size_t)t * C + c];
        wsum += (uint32_t)(int32_t)pp->weights[(size_t)t * C + c];
      }
      /* modulo 2^32, as the vector sums wrap: equal to bias + sum (x - zp) * w whenever that fits */
      params[0][j] = (int32_t)((uint32_t)(pp->bias != NULL ? pp->bias[c] : 0) - (uint32_t)pp->in_zero_point * wsum);
      params[1][j] = pp->multiplier[c];
      params[2][j] = pp->shift[c] > 0 ? pp->shift[c] : 0;
      params[3][j] = pp->shift[c] > 0 ? 0 : pp->shift[c];
    }
    memcpy(out, params, sizeof params);
    out += group_bytes(taps);
  }
}

/* 16 products of one tap, or the sum of two taps' products, widened into the four int32 accumulators. */
static inline __attribute__((always_inline)) void mac2(int32x4x4_t* acc, int8x16_t x0, int8x16_t w0, int8x16_t x1,
                                                       int8x16_t w1) {
  int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0));
  int16x8_t hi = vmull_high_s8(x0, w0);
  lo = vmlal_s8(lo, vget_low_s8(x1), vget_low_s8(w1));
  hi = vmlal_high_s8(hi, x1, w1);
  acc->val[0] = vaddw_s16(acc->val[0], vget_low_s16(lo));
  acc->val[1] = vaddw_high_s16(acc->val[1], lo);
  acc->val[2] = vaddw_s16(acc->val[2], vget_low_s16(hi));
  acc->val[3] = vaddw_high_s16(acc->val[3], hi);
}

static inline __attribute__((always_inline)) void mac1(int32x4x4_t* acc, int8x16_t x0, int8x16_t w0) {
  const int16x8_t lo = vmull_s8(vget_low_s8(x0), vget_low_s8(w0));
  const int16x8_t hi = vmull_high_s8(x0, w0);
  acc->val[0] = vaddw_s16(acc->val[0], vget_low_s16(lo));
  acc->val[1] = vaddw_high_s16(acc->val[1], lo);
  acc->val[2] = vaddw_s16(acc->val[2], vget_low_s16(hi));
  acc->val[3] = vaddw_high_s16(acc->val[3], hi);
}

/* One group's constants, as loaded at the start of its sweep across the row. */
typedef struct group16 {
  int32x4x4_t bias, mult, left, right;
  int16x8_t out_zp;
  int8x16_t lo, hi;
} group16;

static inline __attribute__((always_inline)) int32x4_t rq4(const int MODE, int32x4_t acc, int32x4_t mult,
                                                           int32x4_t left, int32x4_t right) {
  if (MODE & FLAG_LEFT_SHIFT) acc = vshlq_s32(acc, left);
  int32x4_t high = vqrdmulhq_s32(acc, mult);
  if (MODE & FLAG_DOUBLE_ROUNDING) high = vqaddq_s32(high, vshrq_n_s32(vandq_s32(high, right), 31));
  return vrshlq_s32(high, right);
}

static inline __attribute__((always_inline)) int8x16_t requant16(const int MODE, const group16* g, int32x4x4_t a) {
  int32x4_t r[4];
  for (int i = 0; i < 4; i++) r[i] = rq4(MODE, a.val[i], g->mult.val[i], g->left.val[i], g->right.val[i]);
  const int16x8_t s0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r[0]), r[1]), g->out_zp);
  const int16x8_t s1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r[2]), r[3]), g->out_zp);
  return vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(s0), s1), g->lo), g->hi);
}

/* Where a row's taps come from: per ky, the row's first tap of the current pixel (zero-point row if padded). */
typedef struct row_taps {
  const int8_t* base[MAXK]; /* x + iy * W * C, or NULL where iy is padding */
} row_taps;

/* One pixel of one 16-channel group. EDGE: tap pointers in tp[ky * kw + kx]; otherwise row pointers rp[ky]
 * with taps dc bytes apart. KH, KW constant (unrolled, pairs across rows) or 0 (runtime kh, kw). */
static inline __attribute__((always_inline)) int32x4x4_t pixel16(const int KH, const int KW, const int EDGE,
                                                                 int kh, int kw, const int8_t* const* tp,
                                                                 const int8_t* const* rp, ptrdiff_t dc,
                                                                 const int8_t* wg, const int8x16_t* wv,
                                                                 const int32x4x4_t* bias) {
  int32x4x4_t acc = *bias;
  if (KH != 0) {
    const int taps = KH * KW;
#pragma GCC unroll 32
    for (int t = 0; t + 1 < taps; t += 2) {
      const int8_t* a0 = EDGE ? tp[t] : rp[t / KW] + (t % KW) * dc;
      const int8_t* a1 = EDGE ? tp[t + 1] : rp[(t + 1) / KW] + ((t + 1) % KW) * dc;
      const int8x16_t w0 = wv != NULL ? wv[t] : vld1q_s8(wg + CT * t);
      const int8x16_t w1 = wv != NULL ? wv[t + 1] : vld1q_s8(wg + CT * (t + 1));
      mac2(&acc, vld1q_s8(a0), w0, vld1q_s8(a1), w1);
    }
    if (taps & 1) {
      const int t = taps - 1;
      const int8_t* a0 = EDGE ? tp[t] : rp[t / KW] + (t % KW) * dc;
      mac1(&acc, vld1q_s8(a0), wv != NULL ? wv[t] : vld1q_s8(wg + CT * t));
    }
    return acc;
  }
  for (int ky = 0; ky < kh; ky++) {
    const int8_t* const* trow = tp + ky * kw;
    const int8_t* wrow = wg + (size_t)CT * ky * kw;
    int kx = 0;
    for (; kx + 1 < kw; kx += 2) {
      const int8_t* a0 = EDGE ? trow[kx] : rp[ky] + kx * dc;
      const int8_t* a1 = EDGE ? trow[kx + 1] : rp[ky] + (kx + 1) * dc;
      mac2(&acc, vld1q_s8(a0), vld1q_s8(wrow + CT * kx), vld1q_s8(a1), vld1q_s8(wrow + CT * (kx + 1)));
    }
    if (kx < kw) mac1(&acc, vld1q_s8(EDGE ? trow[kx] : rp[ky] + kx * dc), vld1q_s8(wrow + CT * kx));
  }
  return acc;
}

/* The row's geometry, shared by the group sweeps. */
typedef struct row_geom {
  int kh, kw, C, W, OW, ox_lo, ox_hi, stride_w, dilation_w, pad_left;
  row_taps rows;
  const int8_t* zero;
} row_geom;

/* Tap pointers of pixel ox at channel c0: into the image, or into the zero-point row. */
static void edge_taps(const row_geom* g, int ox, int c0, const int8_t** tp) {
  const int ix0 = ox * g->stride_w - g->pad_left;
  for (int ky = 0; ky < g->kh; ky++)
    for (int kx = 0; kx < g->kw; kx++) {
      const int ix = ix0 + kx * g->dilation_w;
      const int8_t* r = g->rows.base[ky];
      tp[ky * g->kw + kx] = r != NULL && ix >= 0 && ix < g->W ? r + (size_t)ix * g->C + c0 : g->zero + c0;
    }
}

/* One 16-channel group across the whole output row. */
static inline __attribute__((always_inline)) void sweep16(const int KH, const int KW, const int MODE,
                                                          const row_geom* rg, const int32_t* gp_params,
                                                          const int8_t* wg, int c0, int8_t* y, int32_t out_zp,
                                                          int32_t act_min, int32_t act_max) {
  group16 g;
  g.bias = vld1q_s32_x4(gp_params);
  g.mult = vld1q_s32_x4(gp_params + CT);
  if (MODE & FLAG_LEFT_SHIFT) g.left = vld1q_s32_x4(gp_params + 2 * CT);
  g.right = vld1q_s32_x4(gp_params + 3 * CT);
  g.out_zp = vdupq_n_s16((int16_t)out_zp);
  g.lo = vdupq_n_s8((int8_t)act_min);
  g.hi = vdupq_n_s8((int8_t)act_max);
  int8x16_t wv_store[9];
  const int preload = KH * KW == 9;
  if (preload)
    for (int t = 0; t < 9; t++) wv_store[t] = vld1q_s8(wg + CT * t);
  const int8x16_t* wv = preload ? wv_store : NULL;
  const int kh = KH ? KH : rg->kh, kw = KW ? KW : rg->kw, C = rg->C;
  const int8_t* tp[MAXK * MAXK];
  for (int ox = 0; ox < rg->ox_lo; ox++) {
    edge_taps(rg, ox, c0, tp);
    vst1q_s8(y + (size_t)ox * C + c0, requant16(MODE, &g, pixel16(KH, KW, 1, kh, kw, tp, NULL, 0, wg, wv, &g.bias)));
  }
  if (rg->ox_lo < rg->ox_hi) {
    const ptrdiff_t dc = (ptrdiff_t)rg->dilation_w * C, step = (ptrdiff_t)rg->stride_w * C;
    const int ix0 = rg->ox_lo * rg->stride_w - rg->pad_left;
    const int8_t* rp[MAXK];
    ptrdiff_t rstep[MAXK];
    for (int ky = 0; ky < kh; ky++) {
      const int8_t* r = rg->rows.base[ky];
      rp[ky] = r != NULL ? r + (ptrdiff_t)ix0 * C + c0 : rg->zero + c0;
      rstep[ky] = r != NULL ? step : 0;
    }
    int8_t* yp = y + (size_t)rg->ox_lo * C + c0;
    for (int ox = rg->ox_lo; ox < rg->ox_hi; ox++, yp += C) {
      vst1q_s8(yp, requant16(MODE, &g, pixel16(KH, KW, 0, kh, kw, NULL, rp, dc, wg, wv, &g.bias)));
#pragma GCC unroll 16
      for (int ky = 0; ky < kh; ky++) rp[ky] += rstep[ky];
    }
  }
  for (int ox = rg->ox_hi; ox < rg->OW; ox++) {
    edge_taps(rg, ox, c0, tp);
    vst1q_s8(y + (size_t)ox * C + c0, requant16(MODE, &g, pixel16(KH, KW, 1, kh, kw, tp, NULL, 0, wg, wv, &g.bias)));
  }
}

/* The last group's channels (n < 16 of them, at c0): 8 with vectors if there are 8 (ruy rounding), the rest
 * (past the last multiple of 8) in scalar code with gemmlowp's rounding. */
static void sweep_tail(const row_geom* rg, const int32_t* params, const int8_t* wg, int c0, int n, int8_t* y,
                       int32_t out_zp, int32_t act_min, int32_t act_max, int double_rounding) {
  const int taps = rg->kh * rg->kw, C = rg->C, n8 = n >= 8 ? 8 : 0;
  const int8_t* tp[MAXK * MAXK];
  for (int ox = 0; ox < rg->OW; ox++) {
    edge_taps(rg, ox, c0, tp);
    int8_t* yp = y + (size_t)ox * C + c0;
    if (n8) {
      int32x4_t a0 = vld1q_s32(params), a1 = vld1q_s32(params + 4);
      for (int t = 0; t < taps; t++) {
        const int16x8_t pr = vmull_s8(vld1_s8(tp[t]), vld1_s8(wg + CT * t));
        a0 = vaddw_s16(a0, vget_low_s16(pr));
        a1 = vaddw_high_s16(a1, pr);
      }
      const int32x4_t r0 = double_rounding ? rq4(FLAG_LEFT_SHIFT | FLAG_DOUBLE_ROUNDING, a0, vld1q_s32(params + CT),
                                                 vld1q_s32(params + 2 * CT), vld1q_s32(params + 3 * CT))
                                           : rq4(FLAG_LEFT_SHIFT, a0, vld1q_s32(params + CT),
                                                 vld1q_s32(params + 2 * CT), vld1q_s32(params + 3 * CT));
      const int32x4_t r1 = double_rounding
                               ? rq4(FLAG_LEFT_SHIFT | FLAG_DOUBLE_ROUNDING, a1, vld1q_s32(params + CT + 4),
                                     vld1q_s32(params + 2 * CT + 4), vld1q_s32(params + 3 * CT + 4))
                               : rq4(FLAG_LEFT_SHIFT, a1, vld1q_s32(params + CT + 4), vld1q_s32(params + 2 * CT + 4),
                                     vld1q_s32(params + 3 * CT + 4));
      const int16x8_t s = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r0), r1), vdupq_n_s16((int16_t)out_zp));
      vst1_s8(yp, vmin_s8(vmax_s8(vqmovn_s16(s), vdup_n_s8((int8_t)act_min)), vdup_n_s8((int8_t)act_max)));
    }
    for (int j = n8; j < n; j++) {
      uint32_t acc = (uint32_t)params[j];
      for (int t = 0; t < taps; t++) acc += (uint32_t)((int32_t)tp[t][j] * wg[CT * t + j]);
      const int32_t shift = params[2 * CT + j] + params[3 * CT + j];
      yp[j] = (int8_t)el_clamp(el_requantize((int32_t)acc, params[CT + j], shift) + out_zp, act_min, act_max);
    }
  }
}

static inline __attribute__((always_inline)) void dw_row(const int KH, const int KW, const int DOUBLE,
                                                         const qs8_dwconv_params* p, const int8_t* x, int oy,
                                                         int8_t* y) {
  mlal_header h;
  memcpy(&h, p->packed, sizeof h);
  const int8_t* zero = (const int8_t*)p->packed + sizeof h;
  const uint8_t* groups = (const uint8_t*)zero + h.zero_bytes;
  const int kh = KH ? KH : p->kh, kw = KW ? KW : p->kw, C = p->C, W = p->W;
  row_geom rg;
  rg.kh = kh, rg.kw = kw, rg.C = C, rg.W = W, rg.OW = p->OW, rg.zero = zero;
  rg.stride_w = p->stride_w, rg.dilation_w = p->dilation_w, rg.pad_left = p->pad_left;
  for (int ky = 0; ky < kh; ky++) {
    const int iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
    rg.rows.base[ky] = iy >= 0 && iy < p->H ? x + (size_t)iy * W * C : NULL;
  }
  /* interior: every tap of the pixel inside the row (ix0 >= 0 and ix0 + (kw - 1) * dilation < W) */
  const int sw = p->stride_w, reach = p->pad_left - (kw - 1) * p->dilation_w + W - 1;
  int lo = (p->pad_left + sw - 1) / sw, hi = reach < 0 ? 0 : reach / sw + 1;
  lo = lo < p->OW ? lo : p->OW;
  hi = hi < p->OW ? hi : p->OW;
  rg.ox_lo = lo, rg.ox_hi = hi > lo ? hi : lo;

  const size_t gb = group_bytes(kh * kw);
  int c0 = 0;
  for (; c0 + CT <= C; c0 += CT) {
    const uint8_t* gp = groups + (size_t)(c0 / CT) * gb;
    const int32_t* params = (const int32_t*)(const void*)gp;
    const int8_t* wg = (const int8_t*)(gp + PARAMS_BYTES);
    const int MODE = DOUBLE ? FLAG_DOUBLE_ROUNDING : 0;
    if (h.flags & FLAG_LEFT_SHIFT) {
      sweep16(KH, KW, MODE | FLAG_LEFT_SHIFT, &rg, params, wg, c0, y, p->out_zero_point, p->act_min, p->act_max);
    } else {
      sweep16(KH, KW, MODE, &rg, params, wg, c0, y, p->out_zero_point, p->act_min, p->act_max);
    }
  }
  if (c0 < C) {
    const uint8_t* gp = groups + (size_t)(c0 / CT) * gb;
    sweep_tail(&rg, (const int32_t*)(const void*)gp, (const int8_t*)(gp + PARAMS_BYTES), c0, C - c0, y,
               p->out_zero_point, p->act_min, p->act_max, DOUBLE);
  }
}

/* A grouped CONV_2D's rounding: a function of its own (any filter size), out of line, so the DEPTHWISE_CONV_2D
 * row functions below compile to the same code as without it (inlined, it had cost MobileNetV2's 3x3 depthwise
 * 6.26 M -> 9.71 M estimated Pi 4 cycles). */
static __attribute__((noinline)) void row_double_rounding(const qs8_dwconv_params* p, const int8_t* x, int oy,
                                                          int8_t* y_row) {
  dw_row(0, 0, 1, p, x, oy, y_row);
}

static int double_rounding(const qs8_dwconv_params* p) {
  mlal_header h;
  memcpy(&h, p->packed, sizeof h);
  return (h.flags & FLAG_DOUBLE_ROUNDING) != 0;
}

void qs8_dwconv_3x3_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  if (double_rounding(p)) {
    row_double_rounding(p, x, oy, y_row);
    return;
  }
  dw_row(3, 3, 0, p, x, oy, y_row);
}

void qs8_dwconv_5x5_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  if (double_rounding(p)) {
    row_double_rounding(p, x, oy, y_row);
    return;
  }
  dw_row(5, 5, 0, p, x, oy, y_row);
}

void qs8_dwconv_kxk_16c__neon_mlal(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  if (double_rounding(p)) {
    row_double_rounding(p, x, oy, y_row);
    return;
  }
  dw_row(0, 0, 0, p, x, oy, y_row);
}

#endif /* __aarch64__ */
