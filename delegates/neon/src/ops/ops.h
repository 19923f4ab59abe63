/* The delegate's op implementations: support checks (what the partitioner claims), prepare, invoke. */
#ifndef EDGELIFT_OPS_H
#define EDGELIFT_OPS_H

#include <stdint.h>

#include "../abi/tflite_abi.h"
#include "../kernels/qs8_gemm.h"
#include "../threadpool.h"

#define EL_MAX_INPUTS 16
#define EL_MAX_DIMS 6

typedef struct el_shape {
  int rank;
  int d[EL_MAX_DIMS];
} el_shape;

typedef struct el_op {
  int code;
  int node_index;
  int n_inputs;
  int inputs[EL_MAX_INPUTS];
  int output;
  /* builtin options, copied at init */
  int padding, stride_w, stride_h, dilation_w, dilation_h, filter_w, filter_h, activation, axis;
  int keep_dims;
  int begin_mask, end_mask, shrink_mask; /* STRIDED_SLICE */
  float beta;
  /* prepared */
  int32_t act_min, act_max;
  int pad_top, pad_left;
  el_shape in_shape, in2_shape, out_shape;
  int32_t in_zp, in2_zp, out_zp;
  int32_t* multiplier; /* [channels] */
  int32_t* shift;
  int32_t* bias;   /* depthwise: [channels] (zero-point folded) */
  int8_t* weights; /* depthwise: [kh*kw*channels] */
  void* packed;    /* GEMM: the variant's packed weights */
  const qs8_gemm_ukernel* gemm;
  int kh, kw, k, n; /* GEMM / conv geometry */
  int direct;       /* conv 1x1, stride 1, no padding: GEMM straight on the input */
  int32_t m1, s1, m2, s2, mo, so, left_shift; /* ADD/MUL/MEAN scalar requantization */
  int16_t hs_out_mult, hs_relu_mult;
  int32_t hs_out_exp, hs_relu_exp;
  int8_t lut[256];
  float table[256];
  int reduce_mask; /* MEAN: bit i set when axis i is reduced */
  int32_t* sums;
  int pads[EL_MAX_DIMS][2];
  int concat_outer, concat_out_inner;
  el_shape in_shapes[EL_MAX_INPUTS]; /* as of the last prepare */
} el_op;

typedef struct el_io {
  TfLiteContext* context;
  int8_t** own; /* per tensor index: the partition's own buffer for internal tensors, else NULL */
  el_pool* pool; /* NULL: single-threaded */
} el_io;

static inline int8_t* el_data(const el_io* io, int idx) {
  return io->own[idx] ? io->own[idx] : io->context->tensors[idx].data.int8;
}

/* Can the delegate compute this node exactly? On no, *why names the reason (static string). */
int el_op_supported(TfLiteContext* context, const TfLiteNode* node, int code, int version, const char** why);
/* Copies options from the node (builtin_data is the runtime's; not kept). */
void el_op_init(el_op* op, const TfLiteNode* node, int code, int node_index);
/* The output shape for the current input shapes `ins` (shapes are recomputed at every prepare: the runtime
 * does not propagate shapes through delegated nodes). 0 with *why when the node cannot take these shapes. */
int el_op_output_shape(TfLiteContext* context, const el_op* op, const el_shape* ins, el_shape* out,
                       const char** why);
/* Derives quantization parameters and packs constant weights for the given shapes; *scratch grows to what
 * invoke needs. */
TfLiteStatus el_op_prepare(TfLiteContext* context, el_op* op, const el_shape* ins, const el_shape* out,
                           const qs8_gemm_ukernel* gemm, size_t* scratch);
el_shape el_tensor_shape(const TfLiteTensor* t);
size_t el_shape_elements(const el_shape* s);
void el_op_invoke(const el_op* op, const el_io* io, int8_t* scratch);
void el_op_release(el_op* op);

#endif
