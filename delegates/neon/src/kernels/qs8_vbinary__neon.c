/* ADD / MUL, ARMv8.0 NEON (Pi 4 and Pi 5 alike): the builtin's vector bodies, instruction for instruction in
 * what they round, 16 elements a step (the scalar-broadcast ADD body in steps of 8, as the builtin's); the
 * tails follow qs8_vbinary_rules.h like the portable variant. Exactness against a plain loop:
 * tests/neon/kernels/test_qs8_vbinary.c. */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "qs8_vbinary.h"
#include "qs8_vbinary_rules.h"

typedef struct out_rescale {
  int32x4_t multiplier, left, neg_right; /* left = max(shift, 0); neg_right = min(shift, 0) */
  int16x8_t zero_point;
  int8x16_t act_min, act_max;
} out_rescale;

static inline out_rescale out_rescale_of(const qs8_vbinary_params* p) {
  out_rescale r;
  r.multiplier = vdupq_n_s32(p->out_multiplier);
  r.left = vdupq_n_s32(p->out_shift > 0 ? p->out_shift : 0);
  r.neg_right = vdupq_n_s32(p->out_shift > 0 ? 0 : p->out_shift);
  r.zero_point = vdupq_n_s16((int16_t)p->out_zero_point);
  r.act_min = vdupq_n_s8((int8_t)p->act_min);
  r.act_max = vdupq_n_s8((int8_t)p->act_max);
  return r;
}

/* The output shift's sign, decided once per call: each loop is compiled three times (always_inline with a
 * constant kind), so no lane runs a shift that is 0. */
typedef enum shift_kind { SHIFT_LEFT, SHIFT_NONE, SHIFT_RIGHT } shift_kind;

static inline shift_kind shift_kind_of(int32_t shift) {
  return shift > 0 ? SHIFT_LEFT : shift == 0 ? SHIFT_NONE : SHIFT_RIGHT;
}

#define EL_INLINE static inline __attribute__((always_inline))

/* el_requantize on four lanes: the left shift wraps (VSHL), SQRDMULH is gemmlowp's high multiply, then
 * gemmlowp's RoundingDivideByPOT (ties away from zero): negative lanes step down one (saturating) before
 * SRSHL's round-half-up, which is right only for a shift > 0, hence the kinds. */
EL_INLINE int32x4_t out_requantize(int32x4_t x, const out_rescale* r, shift_kind kind) {
  if (kind == SHIFT_LEFT) return vqrdmulhq_s32(vshlq_s32(x, r->left), r->multiplier);
  const int32x4_t high = vqrdmulhq_s32(x, r->multiplier);
  if (kind == SHIFT_NONE) return high;
  return vrshlq_s32(vqaddq_s32(high, vshrq_n_s32(high, 31)), r->neg_right);
}

/* ADD's narrowing: truncate to int16, + zero point (wrapping), saturate to int8, clamp */
static inline int8x16_t add_narrow16(int32x4_t s0, int32x4_t s1, int32x4_t s2, int32x4_t s3, const out_rescale* r) {
  const int16x8_t lo = vaddq_s16(vcombine_s16(vmovn_s32(s0), vmovn_s32(s1)), r->zero_point);
  const int16x8_t hi = vaddq_s16(vcombine_s16(vmovn_s32(s2), vmovn_s32(s3)), r->zero_point);
  return vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)), r->act_min), r->act_max);
}

/* MUL's narrowing: saturate to int16, + zero point (wrapping), saturate to int8, clamp */
static inline int8x16_t mul_narrow16(int32x4_t s0, int32x4_t s1, int32x4_t s2, int32x4_t s3, const out_rescale* r) {
  const int16x8_t lo = vaddq_s16(vcombine_s16(vqmovn_s32(s0), vqmovn_s32(s1)), r->zero_point);
  const int16x8_t hi = vaddq_s16(vcombine_s16(vqmovn_s32(s2), vqmovn_s32(s3)), r->zero_point);
  return vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)), r->act_min), r->act_max);
}

/* one ADD input of the elementwise body: (x - zero point) << (20 + shift) (VSHL, truncating when negative),
 * then the high multiply: one rounding */
typedef struct add_side {
  int16x8_t offset;
  int32x4_t shift, multiplier;
} add_side;

static inline add_side add_side_of(int32_t offset, int32_t multiplier, int32_t shift, int folded) {
  add_side s;
  s.offset = vdupq_n_s16((int16_t)offset);
  s.shift = vdupq_n_s32(folded ? QS8_VADD_LEFT_SHIFT + shift : shift);
  s.multiplier = vdupq_n_s32(multiplier);
  return s;
}

static inline int32x4_t add_in_folded(int16x4_t x, const add_side* s) {
  return vqrdmulhq_s32(vshlq_s32(vmovl_s16(x), s->shift), s->multiplier);
}

EL_INLINE void vadd(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                    shift_kind kind) {
  const add_side sa = add_side_of(p->a_offset, p->a_multiplier, p->a_shift, 1);
  const add_side sb = add_side_of(p->b_offset, p->b_multiplier, p->b_shift, 1);
  const out_rescale r = out_rescale_of(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
    const int16x8_t a0 = vaddw_s8(sa.offset, vget_low_s8(va)), a1 = vaddw_high_s8(sa.offset, va);
    const int16x8_t b0 = vaddw_s8(sb.offset, vget_low_s8(vb)), b1 = vaddw_high_s8(sb.offset, vb);
    const int32x4_t s0 = vaddq_s32(add_in_folded(vget_low_s16(a0), &sa), add_in_folded(vget_low_s16(b0), &sb));
    const int32x4_t s1 = vaddq_s32(add_in_folded(vget_high_s16(a0), &sa), add_in_folded(vget_high_s16(b0), &sb));
    const int32x4_t s2 = vaddq_s32(add_in_folded(vget_low_s16(a1), &sa), add_in_folded(vget_low_s16(b1), &sb));
    const int32x4_t s3 = vaddq_s32(add_in_folded(vget_high_s16(a1), &sa), add_in_folded(vget_high_s16(b1), &sb));
    vst1q_s8(y + i, add_narrow16(out_requantize(s0, &r, kind), out_requantize(s1, &r, kind),
                                 out_requantize(s2, &r, kind), out_requantize(s3, &r, kind), &r));
  }
  for (; i < n; i++) y[i] = qs8_vadd_tail(a[i], b[i], p);
}

void qs8_vadd_x16__neon(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  switch (shift_kind_of(p->out_shift)) {
    case SHIFT_LEFT: vadd(p, n, a, b, y, SHIFT_LEFT); break;
    case SHIFT_NONE: vadd(p, n, a, b, y, SHIFT_NONE); break;
    case SHIFT_RIGHT: vadd(p, n, a, b, y, SHIFT_RIGHT); break;
  }
}

/* the scalar-broadcast body's input: (x - zero point) << 20, the high multiply, then a truncating shift */
static inline int32x4_t add_in_truncating(int16x4_t x, const add_side* s) {
  return vshlq_s32(vqrdmulhq_s32(vshlq_n_s32(vmovl_s16(x), QS8_VADD_LEFT_SHIFT), s->multiplier), s->shift);
}

EL_INLINE void vaddc(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y, shift_kind kind) {
  const add_side sb = add_side_of(p->b_offset, p->b_multiplier, p->b_shift, 0);
  const int32x4_t va = vdupq_n_s32(qs8_vadd_in_truncating(a, p->a_offset, p->a_multiplier, p->a_shift));
  const out_rescale r = out_rescale_of(p);
  const size_t body = n / 8 * 8; /* the builtin's body steps 8 at a time: two steps per 16 here */
  size_t i = 0;
  for (; i + 16 <= body; i += 16) {
    const int8x16_t vb = vld1q_s8(b + i);
    const int16x8_t b0 = vaddw_s8(sb.offset, vget_low_s8(vb)), b1 = vaddw_high_s8(sb.offset, vb);
    const int32x4_t s0 = vaddq_s32(va, add_in_truncating(vget_low_s16(b0), &sb));
    const int32x4_t s1 = vaddq_s32(va, add_in_truncating(vget_high_s16(b0), &sb));
    const int32x4_t s2 = vaddq_s32(va, add_in_truncating(vget_low_s16(b1), &sb));
    const int32x4_t s3 = vaddq_s32(va, add_in_truncating(vget_high_s16(b1), &sb));
    vst1q_s8(y + i, add_narrow16(out_requantize(s0, &r, kind), out_requantize(s1, &r, kind),
                                 out_requantize(s2, &r, kind), out_requantize(s3, &r, kind), &r));
  }
  if (i < body) { /* one step of 8 */
    const int16x8_t b0 = vaddw_s8(sb.offset, vld1_s8(b + i));
    const int32x4_t s0 = out_requantize(vaddq_s32(va, add_in_truncating(vget_low_s16(b0), &sb)), &r, kind);
    const int32x4_t s1 = out_requantize(vaddq_s32(va, add_in_truncating(vget_high_s16(b0), &sb)), &r, kind);
    const int16x8_t sum = vaddq_s16(vcombine_s16(vmovn_s32(s0), vmovn_s32(s1)), r.zero_point);
    vst1_s8(y + i, vmin_s8(vmax_s8(vqmovn_s16(sum), vget_low_s8(r.act_min)), vget_low_s8(r.act_max)));
    i += 8;
  }
  for (; i < n; i++) y[i] = qs8_vadd_tail(a, b[i], p);
}

void qs8_vaddc_x8__neon(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  switch (shift_kind_of(p->out_shift)) {
    case SHIFT_LEFT: vaddc(p, n, a, b, y, SHIFT_LEFT); break;
    case SHIFT_NONE: vaddc(p, n, a, b, y, SHIFT_NONE); break;
    case SHIFT_RIGHT: vaddc(p, n, a, b, y, SHIFT_RIGHT); break;
  }
}

/* MUL's product of 16 offset pairs, requantized: four lanes of int32 each */
EL_INLINE int8x16_t mul16(int16x8_t a0, int16x8_t a1, int16x8_t b0, int16x8_t b1, const out_rescale* r,
                          shift_kind kind) {
  const int32x4_t p0 = out_requantize(vmull_s16(vget_low_s16(a0), vget_low_s16(b0)), r, kind);
  const int32x4_t p1 = out_requantize(vmull_high_s16(a0, b0), r, kind);
  const int32x4_t p2 = out_requantize(vmull_s16(vget_low_s16(a1), vget_low_s16(b1)), r, kind);
  const int32x4_t p3 = out_requantize(vmull_high_s16(a1, b1), r, kind);
  return mul_narrow16(p0, p1, p2, p3, r);
}

EL_INLINE void vmul(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y,
                    shift_kind kind) {
  const int16x8_t a_offset = vdupq_n_s16((int16_t)p->a_offset), b_offset = vdupq_n_s16((int16_t)p->b_offset);
  const out_rescale r = out_rescale_of(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
    vst1q_s8(y + i, mul16(vaddw_s8(a_offset, vget_low_s8(va)), vaddw_high_s8(a_offset, va),
                          vaddw_s8(b_offset, vget_low_s8(vb)), vaddw_high_s8(b_offset, vb), &r, kind));
  }
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a[i], b[i], p), p);
}

void qs8_vmul_x16__neon(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  switch (shift_kind_of(p->out_shift)) {
    case SHIFT_LEFT: vmul(p, n, a, b, y, SHIFT_LEFT); break;
    case SHIFT_NONE: vmul(p, n, a, b, y, SHIFT_NONE); break;
    case SHIFT_RIGHT: vmul(p, n, a, b, y, SHIFT_RIGHT); break;
  }
}

EL_INLINE void vmulc(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y, shift_kind kind) {
  const int16x8_t va = vdupq_n_s16((int16_t)(p->a_offset + a)), b_offset = vdupq_n_s16((int16_t)p->b_offset);
  const out_rescale r = out_rescale_of(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int8x16_t vb = vld1q_s8(b + i);
    vst1q_s8(y + i, mul16(va, va, vaddw_s8(b_offset, vget_low_s8(vb)), vaddw_high_s8(b_offset, vb), &r, kind));
  }
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a, b[i], p), p);
}

void qs8_vmulc_x16__neon(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  switch (shift_kind_of(p->out_shift)) {
    case SHIFT_LEFT: vmulc(p, n, a, b, y, SHIFT_LEFT); break;
    case SHIFT_NONE: vmulc(p, n, a, b, y, SHIFT_NONE); break;
    case SHIFT_RIGHT: vmulc(p, n, a, b, y, SHIFT_RIGHT); break;
  }
}

#endif /* __aarch64__ */
