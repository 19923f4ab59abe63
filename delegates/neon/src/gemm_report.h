/* The partition log's line naming the GEMM kernel each delegated CONV_2D / FULLY_CONNECTED node runs
 * (gemm_report.c). */
#ifndef EDGELIFT_GEMM_REPORT_H
#define EDGELIFT_GEMM_REPORT_H

#include "delegate.h"

void el_log_gemm_choice(const el_delegate* d, TfLiteContext* context, const TfLiteIntArray* claimed);

#endif
