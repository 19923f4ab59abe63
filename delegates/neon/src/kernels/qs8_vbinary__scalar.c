/* The portable ADD / MUL variant: the rules of qs8_vbinary_rules.h element by element (the reference the NEON
 * variant is tested against, and what x86-64 runs). */
#include "qs8_vbinary.h"
#include "qs8_vbinary_rules.h"

void qs8_vadd__scalar(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  size_t i = 0;
  for (; i < body; i++)
    y[i] = qs8_vbinary_narrow_wrap(qs8_vadd_out(qs8_vadd_in_folded(a[i], p->a_offset, p->a_multiplier, p->a_shift) +
                                                qs8_vadd_in_folded(b[i], p->b_offset, p->b_multiplier, p->b_shift),
                                                p),
                                   p);
  for (; i < n; i++) y[i] = qs8_vadd_tail(a[i], b[i], p);
}

void qs8_vaddc__scalar(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  const size_t body = n / 8 * 8;
  const int32_t a_body = qs8_vadd_in_truncating(a, p->a_offset, p->a_multiplier, p->a_shift);
  size_t i = 0;
  for (; i < body; i++)
    y[i] = qs8_vbinary_narrow_wrap(
        qs8_vadd_out(a_body + qs8_vadd_in_truncating(b[i], p->b_offset, p->b_multiplier, p->b_shift), p), p);
  for (; i < n; i++) y[i] = qs8_vadd_tail(a, b[i], p);
}

void qs8_vmul__scalar(const qs8_vbinary_params* p, size_t n, const int8_t* a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  size_t i = 0;
  for (; i < body; i++) y[i] = qs8_vbinary_narrow_saturate(qs8_vmul_raw(a[i], b[i], p), p);
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a[i], b[i], p), p);
}

void qs8_vmulc__scalar(const qs8_vbinary_params* p, size_t n, int8_t a, const int8_t* b, int8_t* y) {
  const size_t body = n / 16 * 16;
  size_t i = 0;
  for (; i < body; i++) y[i] = qs8_vbinary_narrow_saturate(qs8_vmul_raw(a, b[i], p), p);
  for (; i < n; i++) y[i] = qs8_vbinary_clamp_int32(qs8_vmul_raw(a, b[i], p), p);
}
