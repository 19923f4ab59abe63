/* The table lookup on ARMv8.0 NEON (x8_lut.h): the 256 entries held in 16 registers as four 64-byte tables;
 * 16 inputs a step go through TBL on the first and TBX on the other three, the index lowered by 64 before
 * each (an index past a table's 64 bytes leaves the lane alone, so each lane takes exactly its own entry). */
#if defined(__aarch64__)
#include <arm_neon.h>

#include "x8_lut.h"

void x8_lut__neon_tbl(size_t n, const int8_t* x, const int8_t* lut, int8_t* y) {
  const uint8_t* t = (const uint8_t*)lut;
  const uint8x16x4_t t0 = vld1q_u8_x4(t), t1 = vld1q_u8_x4(t + 64), t2 = vld1q_u8_x4(t + 128),
                     t3 = vld1q_u8_x4(t + 192);
  const uint8x16_t step = vdupq_n_u8(64);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16_t v = vld1q_u8((const uint8_t*)x + i);
    uint8x16_t out = vqtbl4q_u8(t0, v);
    v = vsubq_u8(v, step);
    out = vqtbx4q_u8(out, t1, v);
    v = vsubq_u8(v, step);
    out = vqtbx4q_u8(out, t2, v);
    v = vsubq_u8(v, step);
    out = vqtbx4q_u8(out, t3, v);
    vst1q_u8((uint8_t*)y + i, out);
  }
  for (; i < n; i++) y[i] = lut[(uint8_t)x[i]];
}

#endif /* __aarch64__ */
