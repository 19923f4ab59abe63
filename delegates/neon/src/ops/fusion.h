/* Residual ADD fusion: a CONV_2D / FULLY_CONNECTED whose int8 output feeds only an ADD computes that ADD in its
 * GEMM epilogue (kernels/qs8_gemm_add.h) and writes the ADD's output; the ADD node is then skipped. Bit-exact
 * with the two builtin kernels by construction (same rounding steps, same order).
 *
 * The partition (partition.c) finds the pairs after every prepare (el_fuse_residual_adds); each side's op says
 * whether it can take part: the ADD when the builtin would run one call of vector body over it (same shapes,
 * a multiple of 16 elements) and its output rescale shifts right (always, but for an output scale 2^20 times
 * below its inputs'), the GEMM when its kernel is a dense variant (the sparse ones have no epilogue). */
#ifndef EDGELIFT_FUSION_H
#define EDGELIFT_FUSION_H

#include <stddef.h>

#include "../kernels/qs8_vbinary.h"
#include "op.h"

/* elementwise.c: the ADD's parameters with input `conv_input` (0 or 1) as the "a" side; 0 with *why if the
 * ADD cannot be fused. */
int el_add_fusion_params(const el_node* add, int conv_input, qs8_vbinary_params* out, const char** why);

/* conv.c: make a prepared CONV_2D / FULLY_CONNECTED compute `add` with `residual` into `output` (tensor
 * indices); 0 with *why when its kernel cannot. A later prepare undoes it (the pass runs again). */
int el_gemm_fuse_add(el_node* gemm, int residual, int output, const qs8_vbinary_params* add, const char** why);

/* The pass over a prepared partition: for every fusable pair, fused_conv[add node] = the GEMM node's position
 * (else -1). `internal`: per tensor, produced in the partition and read nowhere outside it. Logs each pair
 * (debug) through `log`. Returns the number of pairs. */
int el_fuse_residual_adds(el_node* nodes, int n_nodes, const unsigned char* internal, int* fused_conv,
                          void (*log)(void* ctx, int gemm_node, int add_node, const char* why), void* ctx);

#endif
