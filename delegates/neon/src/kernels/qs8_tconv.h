/* The int8 transposed-convolution (TRANSPOSE_CONV) microkernel interface, shaped like qs8_dwconv.h: one output
 * row of one image per call, every variant with the same signatures, one table (qs8_tconv_registry.c); the
 * delegate picks one per node at prepare (ops/kernel_choice.h).
 *
 * TFLite scatters each input pixel through the filter (GEMM, then col2im: input pixel (iy, ix) lands at output
 * (iy * stride_h - pad_top + ky, ix * stride_w - pad_left + kx)); a kernel here gathers instead, per output
 * pixel, the taps that land on it. Integer sums do not depend on the order:
 *
 *   acc[oc] = bias[oc] + sum over (ky, kx, iy, ix) landing on (oy, ox), ic of (x[iy][ix][ic] - in_zp) * w[oc][ky][kx][ic]
 *   y[ox][oc] = clamp(out_zero_point + requantize(acc[oc]), act_min, act_max)
 *
 * with the rounding of TFLite's optimized Quantize() as LiteRT 2.3 and tflite-runtime 2.14 run it: ruy's
 * (el_requantize_gemm) on the channels below `vector_channels` (its vector body, whole groups of 8), gemmlowp's
 * double rounding (el_requantize) on the rest (its scalar tail). Weights, bias and multipliers are constant: `pack` lays them out once at prepare. */
#ifndef EDGELIFT_QS8_TCONV_H
#define EDGELIFT_QS8_TCONV_H

#include <stddef.h>
#include <stdint.h>

/* What `pack` sees: the node's constants. */
typedef struct qs8_tconv_pack_params {
  int C, OC; /* input channels, output channels */
  int kh, kw;
  int32_t in_zero_point;
  const int8_t* weights;     /* [OC][kh][kw][C] (TFLite's OHWI) */
  const int32_t* bias;       /* [OC], or NULL */
  const int32_t* multiplier; /* [OC] */
  const int32_t* shift;      /* [OC], TFLite convention (> 0 shifts left) */
  int vector_channels;       /* channels [0, vector_channels) requantize like the NEON body, the rest like the tail */
} qs8_tconv_pack_params;

/* What `row` sees: the geometry of this prepare and the packed constants. */
typedef struct qs8_tconv_params {
  int H, W, C;    /* input image */
  int OW, OC;     /* output row width, output channels */
  int kh, kw, stride_h, stride_w, pad_top, pad_left;
  int32_t out_zero_point, act_min, act_max;
  const void* packed; /* written by the same variant's pack */
} qs8_tconv_params;

typedef size_t (*qs8_tconv_packed_size_fn)(const qs8_tconv_pack_params* pp);
typedef void (*qs8_tconv_pack_fn)(const qs8_tconv_pack_params* pp, void* packed);
/* x: one image [H][W][C]; y_row: output row `oy`, [OW][OC]. */
typedef void (*qs8_tconv_row_fn)(const qs8_tconv_params* p, const int8_t* x, int oy, int8_t* y_row);

typedef struct qs8_tconv_ukernel {
  const char* name; /* <dtype>_<op>_<channel tile>__<arch> */
  unsigned required_features;
  qs8_tconv_packed_size_fn packed_size;
  qs8_tconv_pack_fn pack;
  qs8_tconv_row_fn row;
} qs8_tconv_ukernel;

/* All variants compiled for this architecture, best first; terminated by an entry with name == NULL. */
extern const qs8_tconv_ukernel qs8_tconv_ukernels[];

#endif
