/* When a GEMM node runs block-sparse (qs8_spgemm.h), decided per node at prepare from its constant weights; the
 * delegate's partition log asks the same question (delegate.c), so what it prints is what runs. */
#ifndef EDGELIFT_SPARSE_CHOICE_H
#define EDGELIFT_SPARSE_CHOICE_H

#include "../kernels/qs8_spgemm.h"
#include "kernel_choice.h"

/* The sparse variant this node should run, or NULL (dense). *density (may be NULL) gets the weights' 16x4 block
 * density. Rule, sparse=auto: sparse when density x (m rounded up to the variant's rows) / m is at most the
 * variant's break-even line break_even_density - break_even_k / k (a partial row tile costs as much as a full
 * one; m = 0: unknown), k fits the variant and so do the weights (no -128 for the ARMv8.0 one);
 * sparse=always: whenever some block is zero (and the variant takes the node); sparse=off: never. */
const qs8_spgemm_ukernel* el_choose_sparse_gemm(const el_kernels* kernels, const el_gemm_problem* problem,
                                                double* density);

/* Rows of A the variant computes at a time (1 for the portable one). */
size_t el_sparse_gemm_rows(const qs8_spgemm_ukernel* u);

#endif
