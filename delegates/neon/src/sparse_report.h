/* The partition log's line naming the nodes that run block-sparse (sparse_report.c). */
#ifndef EDGELIFT_SPARSE_REPORT_H
#define EDGELIFT_SPARSE_REPORT_H

#include "delegate.h"
#include "ops/kernel_choice.h"

/* The GEMM problem (n, k, weights, m as the node's prepare computes it) of a CONV_2D (not grouped) or
 * FULLY_CONNECTED node with constant int8 weights, else 0. Shared with the GEMM kernel line (gemm_report.c). */
int el_gemm_problem_of(TfLiteContext* c, const TfLiteNode* node, int code, el_gemm_problem* out);

void el_log_sparse_choice(const el_delegate* d, TfLiteContext* context, const TfLiteIntArray* claimed);

#endif
