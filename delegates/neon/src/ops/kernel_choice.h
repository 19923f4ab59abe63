/* The one place that decides which microkernel computes a node, called per node at prepare.
 *
 * Today every GEMM node gets the best variant the CPU has (or the one the user forced); the node's own
 * problem is passed in so a later sparse or fused variant can be picked per layer (e.g. by the weights'
 * sparsity) without touching the ops. The delegate validated at creation that a variant exists. */
#ifndef EDGELIFT_KERNEL_CHOICE_H
#define EDGELIFT_KERNEL_CHOICE_H

#include <stddef.h>
#include <stdint.h>

#include "../kernels/qs8_gemm.h"
#include "op.h"

typedef struct el_gemm_problem {
  size_t n;               /* output channels */
  size_t k;               /* reduction depth */
  const int8_t* weights;  /* [n][k], constant */
} el_gemm_problem;

const qs8_gemm_ukernel* el_choose_gemm(const el_kernels* kernels, const el_gemm_problem* problem);

#endif
