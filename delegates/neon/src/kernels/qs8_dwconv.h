/* The int8 depthwise-convolution microkernel interface (as qs8_gemm.h is for GEMM): one output row of one
 * image per call, every variant with the same signature, one table (qs8_dwconv_registry.c) listing them all;
 * the delegate picks one per node at prepare (ops/kernel_choice.h).
 *
 *   acc[c]  = bias[c] + sum_taps (x[iy][ix][c / mult] - in_zero_point) * w[ky][kx][c]
 *   y[ox][c] = clamp(out_zero_point + requantize(acc[c]), act_min, act_max)
 *
 * with LiteRT's rounding: ruy's (el_requantize_gemm) on whole groups of 8 output channels, gemmlowp's double
 * rounding (el_requantize) on the channels past the last multiple of 8 (its scalar tail). */
#ifndef EDGELIFT_QS8_DWCONV_H
#define EDGELIFT_QS8_DWCONV_H

#include <stddef.h>
#include <stdint.h>

typedef struct qs8_dwconv_params {
  int H, W, C;     /* input image */
  int OW, OC;      /* output row width, output channels (a multiple of C) */
  int kh, kw, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t in_zero_point, out_zero_point, act_min, act_max;
  const int8_t* weights;     /* [kh][kw][OC] */
  const int32_t* bias;       /* [OC] */
  const int32_t* multiplier; /* [OC] */
  const int32_t* shift;      /* [OC], TFLite convention */
} qs8_dwconv_params;

/* x: one image [H][W][C]; y_row: output row `oy`, [OW][OC]. */
typedef void (*qs8_dwconv_row_fn)(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);

typedef struct qs8_dwconv_ukernel {
  const char* name; /* <dtype>_<op>_<tile>__<arch> */
  unsigned required_features;
  qs8_dwconv_row_fn row;
} qs8_dwconv_ukernel;

/* All variants compiled for this architecture, best first; terminated by an entry with name == NULL. */
extern const qs8_dwconv_ukernel qs8_dwconv_ukernels[];

#endif
