/* The op table: every op the delegate computes, one line each (the op's family file defines it). */
#include <stddef.h>

#include "op.h"

#define EL_OPS(X)                                                                                      \
  X(conv_2d) X(fully_connected) X(depthwise_conv_2d) X(add) X(mul) X(average_pool_2d) X(max_pool_2d)   \
  X(mean) X(pad) X(concatenation) X(reshape) X(space_to_batch_nd) X(batch_to_space_nd) X(softmax)       \
  X(logistic) X(hard_swish) X(shape) X(strided_slice) X(pack) X(relu) X(relu6) X(relu_n1_to_1) X(leaky_relu)   \
  X(tanh) X(elu) X(gelu) X(rsqrt) X(prelu) X(quantize) X(dequantize) X(sub) X(squared_difference) X(maximum)  \
  X(minimum) X(transpose) X(slice) X(depth_to_space) X(space_to_depth) X(expand_dims) X(squeeze) \
  X(split) X(split_v) X(resize_nearest_neighbor) X(resize_bilinear) \
  X(gather) X(reduce_prod) X(reduce_max) X(sum) X(fill) X(batch_matmul) X(transpose_conv)

#define EL_DECLARE(name) extern const el_op_def el_op_##name;
EL_OPS(EL_DECLARE)
#define EL_ENTRY(name) &el_op_##name,
static const el_op_def* const el_ops[] = {EL_OPS(EL_ENTRY)};

const el_op_def* el_op_find(int code) {
  for (size_t i = 0; i < sizeof el_ops / sizeof el_ops[0]; i++)
    if (el_ops[i]->code == code) return el_ops[i];
  return NULL;
}

int el_op_supported(TfLiteContext* context, const TfLiteNode* node, int code, int version, const char** why) {
  const el_op_def* def = el_op_find(code);
  if (def == NULL) {
    *why = "op not implemented by the NEON delegate";
    return 0;
  }
  /* the multi-output ops (split.c); every other op has one output */
  const int max_outputs = code == kTfLiteBuiltinSplit || code == kTfLiteBuiltinSplitV ? EL_MAX_OUTPUTS : 1;
  if (node->outputs->size < 1 || node->outputs->size > max_outputs) {
    *why = max_outputs == 1 ? "more than one output" : "more outputs than the delegate takes";
    return 0;
  }
  return def->check(context, node, version, why);
}
