/* When a GEMM node runs block-sparse (qs8_spgemm.h), decided per node at prepare from its constant weights; the
 * delegate's partition log asks the same question (delegate.c), so what it prints is what runs. */
#ifndef EDGELIFT_SPARSE_CHOICE_H
#define EDGELIFT_SPARSE_CHOICE_H

#include "../kernels/qs8_spgemm.h"
#include "kernel_choice.h"

/* The sparse variant this node should run, or NULL (dense). *density (may be NULL) gets the weights' 1x4 block
 * density. Rule: with sparse=auto, sparse when density * (m rounded up to the variant's rows) / m is at most the
 * variant's break_even_density (a partial row tile costs as much as a full one; m = 0: unknown, taken as a
 * multiple) and k fits the variant; sparse=always: whenever some block is zero; sparse=off: never. */
const qs8_spgemm_ukernel* el_choose_sparse_gemm(const el_kernels* kernels, const el_gemm_problem* problem,
                                                double* density);

/* Rows of A the variant computes at a time (1 for the portable one). */
size_t el_sparse_gemm_rows(const qs8_spgemm_ukernel* u);

#endif
