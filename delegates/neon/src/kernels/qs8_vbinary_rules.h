/* One element of LiteRT's int8 ADD / MUL, per code path (see qs8_vbinary.h): the rules every variant's tail
 * and the portable variant follow, found by sweeping all 65,536 int8 pairs against LiteRT (tests/opcatalogue.py).
 *
 *  - ADD, elementwise vector body: each input's rescale shift folded into its left shift before the high
 *    multiply (one rounding);
 *  - ADD, scalar-broadcast vector body: the high multiply, then a truncating shift;
 *  - ADD, tails (and the reference loop): the high multiply, then a rounding divide (two roundings);
 *  - MUL: one rule for the product everywhere; the vector bodies saturate it to int16 before adding the output
 *    zero point in int16;
 *  - ADD's vector bodies narrow to int16 by truncation, add the zero point in int16, then saturate to int8;
 *    the tails clamp in int32. (Only values far outside the int8 range differ.) */
#ifndef EDGELIFT_QS8_VBINARY_RULES_H
#define EDGELIFT_QS8_VBINARY_RULES_H

#include "../requantize.h"
#include "qs8_vbinary.h"

static inline int32_t qs8_vbinary_shift_left_or_truncate(int32_t x, int s) {
  return s >= 0 ? (int32_t)((uint32_t)x << s) : x >> -s; /* NEON's VSHL by a signed count */
}

/* vmovn (truncate to int16), + zero point in int16 (wrapping), vqmovn (saturate to int8), then the clamp */
static inline int8_t qs8_vbinary_narrow_wrap(int32_t v, const qs8_vbinary_params* p) {
  const int16_t sum = (int16_t)(uint16_t)((uint32_t)(uint16_t)(uint32_t)v + (uint32_t)p->out_zero_point);
  return (int8_t)el_clamp(el_clamp(sum, -128, 127), p->act_min, p->act_max);
}

/* vqmovn (saturate to int16), + zero point in int16 (wrapping), vqmovn (saturate to int8), then the clamp */
static inline int8_t qs8_vbinary_narrow_saturate(int32_t v, const qs8_vbinary_params* p) {
  const int16_t sat = (int16_t)el_clamp(v, INT16_MIN, INT16_MAX);
  const int16_t sum = (int16_t)(uint16_t)((uint32_t)(uint16_t)sat + (uint32_t)p->out_zero_point);
  return (int8_t)el_clamp(el_clamp(sum, -128, 127), p->act_min, p->act_max);
}

static inline int8_t qs8_vbinary_clamp_int32(int32_t v, const qs8_vbinary_params* p) {
  return (int8_t)el_clamp(v + p->out_zero_point, p->act_min, p->act_max);
}

/* ADD, elementwise vector body */
static inline int32_t qs8_vadd_in_folded(int8_t x, int32_t offset, int32_t multiplier, int32_t shift) {
  return el_srdhm(qs8_vbinary_shift_left_or_truncate(offset + x, QS8_VADD_LEFT_SHIFT + shift), multiplier);
}

/* ADD, scalar-broadcast vector body */
static inline int32_t qs8_vadd_in_truncating(int8_t x, int32_t offset, int32_t multiplier, int32_t shift) {
  return el_srdhm((offset + x) * (1 << QS8_VADD_LEFT_SHIFT), multiplier) >> -shift;
}

/* ADD, tails and the reference loop */
static inline int32_t qs8_vadd_in_double(int8_t x, int32_t offset, int32_t multiplier, int32_t shift) {
  return el_requantize((offset + x) * (1 << QS8_VADD_LEFT_SHIFT), multiplier, shift);
}

static inline int32_t qs8_vadd_out(int32_t sum, const qs8_vbinary_params* p) {
  return el_requantize(sum, p->out_multiplier, p->out_shift);
}

/* the tails' ADD of two elements (also the reference loop's) */
static inline int8_t qs8_vadd_tail(int8_t a, int8_t b, const qs8_vbinary_params* p) {
  return qs8_vbinary_clamp_int32(qs8_vadd_out(qs8_vadd_in_double(a, p->a_offset, p->a_multiplier, p->a_shift) +
                                              qs8_vadd_in_double(b, p->b_offset, p->b_multiplier, p->b_shift), p),
                                 p);
}

static inline int32_t qs8_vmul_raw(int8_t a, int8_t b, const qs8_vbinary_params* p) {
  return el_requantize((p->a_offset + a) * (p->b_offset + b), p->out_multiplier, p->out_shift);
}

#endif
