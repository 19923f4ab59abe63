/* Per-node kernel choice (see kernel_choice.h). */
#include "kernel_choice.h"

#include <string.h>

#include "../kernels/qs8_gemm_cost.h"
#include "sparse_choice.h"

/* A block-sparse variant where the node's weights make it cheaper (sparse_choice.h), else the dense variant with
 * the register tile that costs the layer's shape least (qs8_gemm_cost.h). */
const qs8_gemm_ukernel* el_choose_gemm(const el_kernels* kernels, const el_gemm_problem* problem) {
  const qs8_spgemm_ukernel* sparse = el_choose_sparse_gemm(kernels, problem, NULL);
  if (sparse != NULL) return &sparse->gemm;
  return qs8_gemm_choose(kernels->cpu_features, kernels->forced, problem->m, problem->n, problem->k);
}

/* The first variant (best first) the CPU runs that takes this node's filter size, depth multiplier and weights;
 * a forced level keeps depthwise to that level's variants (kernels=scalar: the portable one, the reference a
 * forced run compares against). */
const qs8_dwconv_ukernel* el_choose_dwconv(const el_kernels* kernels, const qs8_dwconv_pack_params* node) {
  const unsigned allowed = el_kernels_allowed(kernels->cpu_features, kernels->forced);
  for (const qs8_dwconv_ukernel* u = qs8_dwconv_ukernels; u->name != NULL; u++) {
    if ((u->required_features & ~allowed) != 0) continue;
    if (qs8_dwconv_supports(u, node)) return u;
  }
  return NULL;
}

const qs8_vbinary_ukernel* el_choose_vbinary(const el_kernels* kernels) {
  const unsigned allowed = el_kernels_allowed(kernels->cpu_features, kernels->forced);
  for (const qs8_vbinary_ukernel* u = qs8_vbinary_ukernels; u->name != NULL; u++) {
    if ((u->required_features & ~allowed) != 0) continue;
    return u;
  }
  return NULL;
}

const qs8_tconv_ukernel* el_choose_tconv(const el_kernels* kernels, const qs8_tconv_pack_params* node) {
  (void)node;
  const unsigned allowed = el_kernels_allowed(kernels->cpu_features, kernels->forced);
  for (const qs8_tconv_ukernel* u = qs8_tconv_ukernels; u->name != NULL; u++) {
    if ((u->required_features & ~allowed) != 0) continue;
    return u;
  }
  return NULL;
}
