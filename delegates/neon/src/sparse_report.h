/* The partition log's line naming the nodes that run block-sparse (sparse_report.c). */
#ifndef EDGELIFT_SPARSE_REPORT_H
#define EDGELIFT_SPARSE_REPORT_H

#include "delegate.h"

void el_log_sparse_choice(const el_delegate* d, TfLiteContext* context, const TfLiteIntArray* claimed);

#endif
