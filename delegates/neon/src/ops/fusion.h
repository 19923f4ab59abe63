/* Two fusions, each its own option bit (op.h, EL_FUSE_*), both bit-exact with the builtin kernels by construction.
 *
 * Residual ADD fusion: a CONV_2D / FULLY_CONNECTED whose int8 output feeds only an ADD computes that ADD in its
 * GEMM epilogue (kernels/qs8_gemm_add.h) and writes the ADD's output; the ADD node is then skipped. Bit-exact
 * with the two builtin kernels by construction (same rounding steps, same order).
 *
 * The partition (partition.c) finds the pairs after every prepare (el_fuse_residual_adds); each side's op says
 * whether it can take part: the ADD when the builtin would run one call of vector body over it (same shapes,
 * a multiple of 16 elements) and its output rescale shifts right (always, but for an output scale 2^20 times
 * below its inputs'), the GEMM when its kernel is a dense variant (the sparse ones have no epilogue). */
/*
 * Depthwise -> project fusion: a DEPTHWISE_CONV_2D (3x3, stride 1 or 2, no dilation) whose int8 output is read
 * only by a 1x1 stride-1 CONV_2D (MobileNetV2's depthwise + project) runs both per band of output rows: the
 * depthwise writes a band's int8 rows into a small scratch buffer and the GEMM consumes it at once, so the
 * intermediate never goes to memory as a whole. The intermediate is the same int8 requantized rows either way,
 * and a GEMM output row depends on its input row alone: same bits. The conv node is then skipped (its work,
 * and a residual ADD fused into it, run inside the depthwise node's invoke). With fuse=block the expand 1x1 in
 * front goes in too: each band's input rows (and the halo the 3x3 window needs) are computed by the expand's GEMM
 * into scratch just before the depthwise reads them (MobileNetV2's whole block body, expand -> depthwise ->
 * project, per band). */
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

/* conv.c: 1 when `conv` is a dense-layout CONV_2D the band loop can feed: 1x1, stride 1, no padding (its GEMM runs
 * straight on its input rows); else 0 and *why. */
int el_gemm_takes_rows(const el_node* conv, const char** why);
/* conv.c: output pixels [r0, r1) of image b of such a conv from `a` (those pixels' input channels, one
 * contiguous row of k bytes each; NULL: its own input's rows) into `y` (rows of n bytes; NULL: its own output,
 * or its fused ADD's, residual included). */
void el_gemm_run_rows(const el_node* conv, const el_io* io, size_t b, size_t r0, size_t r1, const int8_t* a,
                      int8_t* y);

/* depthwise.c: make a prepared DEPTHWISE_CONV_2D compute `conv` on its rows band by band; grows *scratch to the
 * bands `threads` workers hold at once. 0 with *why when it cannot. A later prepare undoes it. */
int el_dw_fuse_project(el_node* dw, const el_node* conv, int threads, size_t* scratch, const char** why);

/* depthwise.c: make a DEPTHWISE_CONV_2D whose project is fused compute the 1x1 `expand` in front of it too, on the
 * input rows each band needs (its halo: rows shared by consecutive bands are kept, not recomputed); grows
 * *scratch. 0 with *why when it cannot. */
int el_dw_fuse_expand(el_node* dw, const el_node* expand, int threads, size_t* scratch, const char** why);

/* The pass: for every depthwise -> 1x1 pair, computed_by[conv node] = the depthwise node's position. Runs after
 * the ADD pass (computed_by as it left it: a conv whose fused ADD's residual is made after the depthwise is
 * left apart). Logs each candidate pair; returns the number fused. */
int el_fuse_dw_projects(el_node* nodes, int n_nodes, const unsigned char* internal, int* computed_by, int threads,
                        size_t* scratch,
                        void (*log)(void* ctx, const el_node* dw, const el_node* conv, const char* why), void* ctx);

/* The expand pass (after the one above): for every depthwise computing its project whose input only an expand 1x1
 * CONV_2D makes, computed_by[expand] = the depthwise's position. Returns the number fused. */
int el_fuse_dw_expands(el_node* nodes, int n_nodes, const unsigned char* internal, int* computed_by, int threads,
                       size_t* scratch,
                       void (*log)(void* ctx, const el_node* expand, const el_node* dw, const char* why), void* ctx);

/* depthwise.c, for the log: a fused depthwise's output rows per band and the most input rows one band reads
 * (0 without the expand). */
void el_dw_band_geometry(const el_node* dw, size_t* rows, size_t* halo_rows);

#endif
