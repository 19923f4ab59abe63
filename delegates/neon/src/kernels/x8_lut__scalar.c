/* The portable table lookup (x8_lut.h): one byte at a time. */
#include "x8_lut.h"

void x8_lut__scalar(size_t n, const int8_t* x, const int8_t* lut, int8_t* y) {
  for (size_t i = 0; i < n; i++) y[i] = lut[(uint8_t)x[i]];
}
