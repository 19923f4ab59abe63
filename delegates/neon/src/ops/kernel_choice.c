/* Per-node kernel choice (see kernel_choice.h). */
#include "kernel_choice.h"

const qs8_gemm_ukernel* el_choose_gemm(const el_kernels* kernels, const el_gemm_problem* problem) {
  (void)problem; /* dense weights only so far: the CPU decides */
  return qs8_gemm_select(kernels->cpu_features, kernels->forced);
}
