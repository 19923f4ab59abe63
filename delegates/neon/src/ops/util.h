/* Helpers the op families share: tensor predicates, shapes, activation ranges, conv geometry. */
#ifndef EDGELIFT_OP_UTIL_H
#define EDGELIFT_OP_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"

#define EL_NO(reason) \
  do {                \
    *why = (reason);  \
    return 0;         \
  } while (0)

static inline const TfLiteTensor* el_tensor(TfLiteContext* c, int idx) { return idx >= 0 ? &c->tensors[idx] : NULL; }

/* The affine quantization record, or NULL when missing or malformed. */
const TfLiteAffineQuantization* el_affine(const TfLiteTensor* t);
/* int8 activation tensor, per-tensor affine quantization, static shape of rank <= 4 */
int el_is_q8(const TfLiteTensor* t);
int el_is_const(const TfLiteTensor* t);
int el_same_quant(const TfLiteTensor* a, const TfLiteTensor* b);
/* static int32 tensor of rank <= 1 */
int el_is_i32_vector(const TfLiteTensor* t);

el_shape el_tensor_shape(const TfLiteTensor* t);
size_t el_shape_elements(const el_shape* s);

/* fused activation TFLite's int8 kernels clamp to (none, RELU, RELU6, RELU_N1_TO_1) */
int el_act_ok(int act);
/* TFLite's CalculateActivationRangeQuantized for int8 */
void el_act_range(int act, const TfLiteTensor* out, int32_t* lo, int32_t* hi);

int el_out_size(int padding, int in, int filter, int stride, int dilation);
int el_pad_before(int stride, int dilation, int in, int filter, int out);

/* NULL when the weights are symmetric int8, per tensor or per channel along `qdim`; else the reason */
const char* el_filter_problem(const TfLiteTensor* f, int channels, int qdim);
/* absent, or constant int32 [channels] */
int el_bias_ok(const TfLiteTensor* b, int channels);
/* PopulateConvolutionQuantizationParams: each output channel's multiplier and shift for input scale x weight scale
 * (the channel's, or the one per-tensor scale) / output scale, the product taken in double. */
void el_conv_multipliers(const TfLiteTensor* x, const TfLiteTensor* f, const TfLiteTensor* out, int channels,
                         int32_t* multiplier, int32_t* shift);

/* One task of an op parallel over NHWC output rows (task = image * output height + row): the image's input and
 * the row's output. */
typedef struct el_out_row {
  const int8_t* image;
  int oy;
  int8_t* row;
} el_out_row;
static inline el_out_row el_nhwc_out_row(const el_shape* in, const el_shape* out, const int8_t* x, int8_t* y,
                                         size_t task) {
  const size_t OH = (size_t)out->d[1];
  const size_t b = task / OH, oy = task % OH;
  const size_t image = (size_t)in->d[1] * in->d[2] * in->d[3];
  const size_t row = (size_t)out->d[2] * out->d[3];
  const el_out_row r = {x + b * image, (int)oy, y + (b * OH + oy) * row};
  return r;
}

/* The tensors of a weighted op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): input, weights, optional bias,
 * output. 1 when there are 2 or 3 inputs, the activations are int8 per tensor (of rank `act_rank`, when not 0)
 * and the weights constant int8 of rank `weight_rank`; else 0 and *why. */
typedef struct el_weighted {
  const TfLiteTensor *x, *f, *b, *out;
} el_weighted;
int el_weighted_tensors(TfLiteContext* c, const TfLiteNode* node, int act_rank, int weight_rank, el_weighted* t,
                        const char** why);
/* A sliding-window op's options (CONV_2D, DEPTHWISE_CONV_2D): known padding, strides and dilations >= 1, a fused
 * activation the int8 kernels clamp, and an output shape those options give; else 0 and *why. */
int el_window_ok(int padding, int stride_w, int stride_h, int dilation_w, int dilation_h, int activation,
                 const el_weighted* t, const char** why);

#endif
