/* The int8 depthwise-convolution microkernel interface (as qs8_gemm.h is for GEMM): one output row of one
 * image per call, every variant with the same signatures, one table (qs8_dwconv_registry.c) listing them all;
 * the delegate picks one per node at prepare (ops/kernel_choice.h).
 *
 *   acc[c]  = bias[c] + sum_taps (x[iy][ix][c / mult] - in_zero_point) * w[ky][kx][c]
 *   y[ox][c] = clamp(out_zero_point + requantize(acc[c]), act_min, act_max)
 *
 * with LiteRT's rounding: ruy's (el_requantize_gemm) on whole groups of 8 output channels, gemmlowp's double
 * rounding (el_requantize) on the channels past the last multiple of 8 (its scalar tail).
 *
 * Weights, bias, the per-channel multipliers and the input zero point are constant: each variant's `pack`
 * lays them out once (at prepare) the way its `row` wants; `row` only computes. */
#ifndef EDGELIFT_QS8_DWCONV_H
#define EDGELIFT_QS8_DWCONV_H

#include <stddef.h>
#include <stdint.h>

/* What `pack` sees: the node's constants. */
typedef struct qs8_dwconv_pack_params {
  int C, OC;          /* input channels; output channels (a multiple of C: OC / C is the depth multiplier) */
  int kh, kw;
  int dilation_w;     /* a padded row is read as a row of zero points one filter row wide */
  int32_t in_zero_point;
  const int8_t* weights;     /* [kh][kw][OC] */
  const int32_t* bias;       /* [OC], or NULL */
  const int32_t* multiplier; /* [OC] */
  const int32_t* shift;      /* [OC], TFLite convention (> 0 shifts left) */
  /* 0: DEPTHWISE_CONV_2D's rounding (above); 1: gemmlowp's double rounding on every channel, as the builtin's
   * reference CONV_2D computes a grouped convolution (ops/grouped_conv.c runs those through these kernels) */
  int double_rounding;
} qs8_dwconv_pack_params;

/* What `row` sees: the geometry of this prepare and the packed constants. */
typedef struct qs8_dwconv_params {
  int H, W, C;     /* input image (C as packed) */
  int OW, OC;      /* output row width, output channels */
  int kh, kw, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int32_t out_zero_point, act_min, act_max;
  const void* packed; /* written by the same variant's pack */
} qs8_dwconv_params;

typedef size_t (*qs8_dwconv_packed_size_fn)(const qs8_dwconv_pack_params* pp);
typedef void (*qs8_dwconv_pack_fn)(const qs8_dwconv_pack_params* pp, void* packed);
/* x: one image [H][W][C]; y_row: output row `oy`, [OW][OC]. */
typedef void (*qs8_dwconv_row_fn)(const qs8_dwconv_params* p, const int8_t* x, int oy, int8_t* y_row);

typedef struct qs8_dwconv_ukernel {
  const char* name; /* <dtype>_<op>_<taps>_<channel tile>__<arch> */
  unsigned required_features;
  int kh, kw;          /* the one filter size it computes; 0 = any (up to max_k) */
  int max_k;           /* largest kh and kw it takes; 0 = no limit */
  int any_multiplier;  /* 0 = depth multiplier 1 only */
  int weights_127;     /* 1 = weights must lie in [-127, 127] (TFLite's int8 spec): two products share int16 */
  qs8_dwconv_packed_size_fn packed_size;
  qs8_dwconv_pack_fn pack;
  qs8_dwconv_row_fn row;
  int any_rounding;    /* 1 = honours double_rounding; 0 = DEPTHWISE_CONV_2D's rounding only */
} qs8_dwconv_ukernel;

/* All variants compiled for this architecture, best first; terminated by an entry with name == NULL. */
extern const qs8_dwconv_ukernel qs8_dwconv_ukernels[];

/* Can `u` compute this node (filter size, depth multiplier, weight range)? */
int qs8_dwconv_supports(const qs8_dwconv_ukernel* u, const qs8_dwconv_pack_params* pp);

#endif
