/* The residual ADD fused into the GEMM epilogue: one output of CONV_2D / FULLY_CONNECTED followed by the ADD it
 * alone feeds, computed as the two builtin kernels compute them one after the other:
 *
 *   v = clamp(out_zero_point + el_requantize_gemm(acc, multiplier, shift), act_min, act_max)   (the conv's int8)
 *   y = the ADD's elementwise vector body on (v, residual)                                    (qs8_vbinary_rules.h)
 *
 * i.e. both inputs offset by -zero point and shifted left by 20 + their rescale shift (one rounding, in the
 * high multiply), summed, the output rescale (double rounding), truncated to int16, + zero point in int16,
 * saturated to int8, the ADD's activation clamp. The conv's int8 value is never stored. Valid exactly where the
 * builtin would run its vector body on every element: a same-shape ADD whose element count is a multiple of
 * 16 (the partition only fuses those). This scalar rule is the twin every SIMD epilogue is tested against. */
#ifndef EDGELIFT_QS8_GEMM_ADD_H
#define EDGELIFT_QS8_GEMM_ADD_H

#include "qs8_vbinary.h"
#include "qs8_vbinary_rules.h"

static inline int8_t qs8_gemm_add_one(int8_t conv, int8_t residual, const qs8_vbinary_params* p) {
  const int32_t sum = qs8_vadd_in_folded(conv, p->a_offset, p->a_multiplier, p->a_shift) +
                      qs8_vadd_in_folded(residual, p->b_offset, p->b_multiplier, p->b_shift);
  return qs8_vbinary_narrow_wrap(qs8_vadd_out(sum, p), p);
}

#endif
