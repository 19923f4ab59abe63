/* Per-node kernel choice (see kernel_choice.h). */
#include "kernel_choice.h"

const qs8_gemm_ukernel* el_choose_gemm(const el_kernels* kernels, const el_gemm_problem* problem) {
  (void)problem; /* dense weights only so far: the CPU decides */
  return qs8_gemm_select(kernels->cpu_features, kernels->forced);
}

const qs8_dwconv_ukernel* el_choose_dwconv(const el_kernels* kernels, const el_dwconv_problem* problem) {
  (void)problem; /* one portable variant so far: the first the CPU can run */
  for (const qs8_dwconv_ukernel* u = qs8_dwconv_ukernels; u->name != NULL; u++)
    if ((u->required_features & ~kernels->cpu_features) == 0) return u;
  return NULL;
}
