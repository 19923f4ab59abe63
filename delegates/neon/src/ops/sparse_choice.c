/* The per-node sparse-or-dense rule (see sparse_choice.h). */
#include "sparse_choice.h"

#include <string.h>

size_t el_sparse_gemm_rows(const qs8_spgemm_ukernel* u) { return u->rows; }

const qs8_spgemm_ukernel* el_choose_sparse_gemm(const el_kernels* kernels, const el_gemm_problem* problem,
                                                double* density) {
  if (density != NULL) *density = 1.0;
  if (problem == NULL || problem->weights == NULL || kernels->sparse == EL_SPARSE_OFF) return NULL;
  const qs8_spgemm_ukernel* u = qs8_spgemm_select(kernels->cpu_features, kernels->forced);
  if (u == NULL || problem->k > u->max_k) return NULL;
  if (u->no_minus128) {
    for (size_t i = 0; i < problem->n * problem->k; i++)
      if (problem->weights[i] == -128) return NULL; /* outside TFLite's weight range: the dense kernel takes it */
  }
  const double d = qs8_spgemm_block_density(problem->n, problem->k, problem->weights);
  if (density != NULL) *density = d;
  if (kernels->sparse == EL_SPARSE_ALWAYS) return d < 1.0 ? u : NULL;
  const size_t rows = el_sparse_gemm_rows(u);
  const double waste = problem->m > 0 ? (double)((problem->m + rows - 1) / rows * rows) / (double)problem->m : 1.0;
  const double line = (double)u->break_even_density - (double)u->break_even_k / (double)problem->k;
  return d * waste <= line ? u : NULL;
}
