/* The one place that decides which microkernel computes a node, called per node at prepare.
 *
 * A GEMM node gets a block-sparse variant where its weights make that cheaper (sparse_choice.h), else the dense
 * variant the CPU has (at the level the user forced) whose register tile costs the node's shape least by the
 * meter-calibrated estimate of kernels/qs8_gemm_cost.h (the per-layer tile choice); a depthwise node gets
 * the best variant the CPU has that takes its filter size, depth multiplier and weight range (a 3x3, a 5x5 or
 * any-size NEON kernel; the portable one otherwise); ADD and MUL get the CPU's elementwise variant. The node's own problem is passed in so a block-sparse variant is picked per layer by its weights'
 * block density (sparse_choice.h) without touching the ops. The delegate validated at
 * creation that a GEMM variant exists; NULL means none fits (the node's prepare fails). */
#ifndef EDGELIFT_KERNEL_CHOICE_H
#define EDGELIFT_KERNEL_CHOICE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/qs8_dwconv.h"
#include "../kernels/qs8_gemm.h"
#include "../kernels/qs8_vbinary.h"
#include "../kernels/qs8_tconv.h"
#include "op.h"

typedef struct el_gemm_problem {
  size_t n;               /* output channels */
  size_t k;               /* reduction depth */
  const int8_t* weights;  /* [n][k], constant */
  size_t m;               /* rows per call (output pixels, batch rows); 0 = unknown */
} el_gemm_problem;

const qs8_gemm_ukernel* el_choose_gemm(const el_kernels* kernels, const el_gemm_problem* problem);

/* node: the constants the chosen variant will pack (filter size, channels, weights). */
const qs8_dwconv_ukernel* el_choose_dwconv(const el_kernels* kernels, const qs8_dwconv_pack_params* node);

/* ADD / MUL: the best variant the CPU runs (every one computes every call exactly); kernels=scalar forces the
 * portable one. */
const qs8_vbinary_ukernel* el_choose_vbinary(const el_kernels* kernels);

/* A TRANSPOSE_CONV node: the first variant the CPU runs (only the portable one so far). */
const qs8_tconv_ukernel* el_choose_tconv(const el_kernels* kernels, const qs8_tconv_pack_params* node);

#endif
