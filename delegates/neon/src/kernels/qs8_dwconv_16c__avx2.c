/* qs8 depthwise convolution on x86-64 AVX2 (see qs8_dwconv.h): depth multiplier 1, any filter size, any int8
 * weight, DEPTHWISE_CONV_2D's rounding (grouped CONV_2D, double rounding throughout, stays on the portable one).
 *
 * 16 channels at a time: inputs and weights widened to int16, the input zero point subtracted, one VPMULLW per
 * tap — (x - zp) * w lies in [-32640, 32640], so the int16 product is exact for every int8 weight, -128
 * included — then widened into two int32 accumulators of 8 channels. A block of 8 channels takes the
 * remaining multiple of 8; channels past it go through a scalar loop with gemmlowp's double rounding, as
 * LiteRT's own kernel computes its tail (the scalar twin's split). Only taps inside the image are visited:
 * their range is found once per output pixel, not per channel block.
 *
 * Packed layout: a header; per group of 8 channels, 8 int32 each of bias, multiplier, left shift, right shift,
 * right shift - 1 and the rounding bit mask (ruy's rescale, qs8_requantize_avx2.h, ready to load); the tail's
 * bias, multiplier and shift; then the int8 weights [kh][kw][OC] as given. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "../requantize.h"
#include "qs8_dwconv.h"
#include "qs8_requantize_avx2.h"

typedef struct avx2_header {
  int32_t C, OC, kh, kw, in_zero_point, groups, tail, reserved;
} avx2_header;

enum { GROUP_INTS = 6 * 8 }; /* bias, mult, left, right, right - 1, half: 8 channels each */

static size_t weights_offset(int OC) {
  const size_t groups = (size_t)OC / 8, tail = (size_t)OC % 8;
  return sizeof(avx2_header) + (groups * GROUP_INTS + 3 * tail) * sizeof(int32_t);
}

size_t qs8_dwconv_16c__avx2_packed_size(const qs8_dwconv_pack_params* pp) {
  return weights_offset(pp->OC) + (size_t)pp->kh * pp->kw * pp->OC;
}

void qs8_dwconv_16c__avx2_pack(const qs8_dwconv_pack_params* pp, void* packed) {
  const int OC = pp->OC, groups = OC / 8, tail = OC % 8;
  const avx2_header h = {pp->C, OC, pp->kh, pp->kw, pp->in_zero_point, groups, tail, 0};
  uint8_t* out = (uint8_t*)packed;
  memcpy(out, &h, sizeof h);
  int32_t* ints = (int32_t*)(void*)(out + sizeof h);
  for (int g = 0; g < groups; g++, ints += GROUP_INTS) {
    for (int j = 0; j < 8; j++) {
      const int c = 8 * g + j;
      const int32_t s = pp->shift[c], right = s < 0 ? -s : 0;
      ints[j] = pp->bias != NULL ? pp->bias[c] : 0;
      ints[8 + j] = pp->multiplier[c];
      ints[16 + j] = s > 0 ? s : 0;
      ints[24 + j] = right;
      ints[32 + j] = right > 0 ? right - 1 : 0;
      ints[40 + j] = right > 0 ? 1 : 0;
    }
  }
  for (int j = 0; j < tail; j++) {
    const int c = 8 * groups + j;
    ints[j] = pp->bias != NULL ? pp->bias[c] : 0;
    ints[tail + j] = pp->multiplier[c];
    ints[2 * tail + j] = pp->shift[c];
  }
  memcpy(out + weights_offset(OC), pp->weights, (size_t)pp->kh * pp->kw * OC);
}

static inline EL_TARGET_AVX2 el_requant8_avx2 group_requant(const int32_t* g, const qs8_dwconv_params* p) {
  el_requant8_avx2 q;
  q.mult = _mm256_loadu_si256((const __m256i*)(const void*)(g + 8));
  q.left = _mm256_loadu_si256((const __m256i*)(const void*)(g + 16));
  q.right = _mm256_loadu_si256((const __m256i*)(const void*)(g + 24));
  q.right_less_1 = _mm256_loadu_si256((const __m256i*)(const void*)(g + 32));
  q.half = _mm256_loadu_si256((const __m256i*)(const void*)(g + 40));
  q.zero_point = _mm256_set1_epi32(p->out_zero_point);
  q.act_min = _mm256_set1_epi32(p->act_min);
  q.act_max = _mm256_set1_epi32(p->act_max);
  return q;
}

static inline EL_TARGET_AVX2 __m256i bias8(const int32_t* g) {
  return _mm256_loadu_si256((const __m256i*)(const void*)g);
}

/* The taps of one output pixel that fall inside the image: ky in [ky0, ky1), kx in [kx0, kx1). */
typedef struct tap_range {
  int ky0, ky1, kx0, kx1, iy0, ix0;
} tap_range;

static inline int first_inside(int start, int dilation, int taps) {
  int t = 0;
  while (t < taps && start + t * dilation < 0) t++;
  return t;
}

static inline int end_inside(int start, int dilation, int taps, int size) {
  int t = taps;
  while (t > 0 && start + (t - 1) * dilation >= size) t--;
  return t;
}

/* Offset of pixel (iy, ix), both inside the image. */
static inline size_t first_pixel(int iy, int ix, int W, int C) { return ((size_t)iy * W + (size_t)ix) * C; }

EL_TARGET_AVX2
void qs8_dwconv_16c__avx2(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row) {
  avx2_header h;
  memcpy(&h, p->packed, sizeof h);
  const int H = p->H, W = p->W, C = p->C, OW = p->OW, OC = p->OC, kw = p->kw;
  const int dh = p->dilation_h, dw = p->dilation_w;
  const int32_t* groups = (const int32_t*)(const void*)((const uint8_t*)p->packed + sizeof h);
  const int32_t* tail = groups + (size_t)h.groups * GROUP_INTS;
  const int8_t* weights = (const int8_t*)p->packed + weights_offset(OC);
  const __m256i zp16 = _mm256_set1_epi16((int16_t)h.in_zero_point);
  const __m256i zp32 = _mm256_set1_epi32(h.in_zero_point);
  const int iy0 = oy * p->stride_h - p->pad_top;
  const int ky0 = first_inside(iy0, dh, p->kh), ky1 = end_inside(iy0, dh, p->kh, H);
  for (int ox = 0; ox < OW; ox++) {
    const int ix0 = ox * p->stride_w - p->pad_left;
    const int kx0 = first_inside(ix0, dw, kw), kx1 = end_inside(ix0, dw, kw, W);
    int8_t* yp = y_row + (size_t)ox * OC;
    int c0 = 0;
    for (; c0 + 16 <= 8 * h.groups; c0 += 16) {
      const int32_t* g = groups + (size_t)(c0 / 8) * GROUP_INTS;
      __m256i lo = bias8(g), hi = bias8(g + GROUP_INTS);
      for (int ky = ky0; ky < ky1; ky++) {
        const int8_t* xp = x + first_pixel(iy0 + ky * dh, ix0 + kx0 * dw, W, C) + c0;
        const int8_t* wp = weights + ((size_t)ky * kw + kx0) * OC + c0;
        for (int kx = kx0; kx < kx1; kx++, xp += (size_t)dw * C, wp += OC) {
          const __m128i xb = _mm_loadu_si128((const __m128i*)(const void*)xp);
          const __m128i wb = _mm_loadu_si128((const __m128i*)(const void*)wp);
          const __m256i prod = _mm256_mullo_epi16(_mm256_sub_epi16(_mm256_cvtepi8_epi16(xb), zp16),
                                                  _mm256_cvtepi8_epi16(wb));
          lo = _mm256_add_epi32(lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(prod)));
          hi = _mm256_add_epi32(hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(prod, 1)));
        }
      }
      const el_requant8_avx2 qlo = group_requant(g, p), qhi = group_requant(g + GROUP_INTS, p);
      _mm_storel_epi64((__m128i*)(void*)(yp + c0), el_narrow8_avx2(el_requant8_avx2_apply(&qlo, lo)));
      _mm_storel_epi64((__m128i*)(void*)(yp + c0 + 8), el_narrow8_avx2(el_requant8_avx2_apply(&qhi, hi)));
    }
    if (c0 < 8 * h.groups) { /* one group of 8 left */
      const int32_t* g = groups + (size_t)(c0 / 8) * GROUP_INTS;
      __m256i acc = bias8(g);
      for (int ky = ky0; ky < ky1; ky++) {
        const int8_t* xp = x + first_pixel(iy0 + ky * dh, ix0 + kx0 * dw, W, C) + c0;
        const int8_t* wp = weights + ((size_t)ky * kw + kx0) * OC + c0;
        for (int kx = kx0; kx < kx1; kx++, xp += (size_t)dw * C, wp += OC) {
          const __m128i xb = _mm_loadl_epi64((const __m128i*)(const void*)xp);
          const __m128i wb = _mm_loadl_epi64((const __m128i*)(const void*)wp);
          const __m256i xv = _mm256_sub_epi32(_mm256_cvtepi8_epi32(xb), zp32);
          acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(xv, _mm256_cvtepi8_epi32(wb)));
        }
      }
      const el_requant8_avx2 q = group_requant(g, p);
      _mm_storel_epi64((__m128i*)(void*)(yp + c0), el_narrow8_avx2(el_requant8_avx2_apply(&q, acc)));
      c0 += 8;
    }
    for (int j = 0; j < h.tail; j++, c0++) { /* LiteRT's scalar tail: double rounding */
      int32_t acc = tail[j];
      for (int ky = ky0; ky < ky1; ky++) {
        for (int kx = kx0; kx < kx1; kx++) {
          const int8_t xv = x[first_pixel(iy0 + ky * dh, ix0 + kx * dw, W, C) + c0];
          acc += ((int32_t)xv - h.in_zero_point) * weights[((size_t)ky * kw + kx) * OC + c0];
        }
      }
      const int32_t q = el_requantize(acc, tail[h.tail + j], tail[2 * h.tail + j]) + p->out_zero_point;
      yp[c0] = (int8_t)el_clamp(q, p->act_min, p->act_max);
    }
  }
}

#endif /* __x86_64__ */
