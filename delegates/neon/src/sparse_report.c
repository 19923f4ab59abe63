/* The partition log's sparse line: which delegated CONV_2D / FULLY_CONNECTED nodes will run block-sparse and the
 * 16x4 block density of each, asked of the same rule the nodes' prepare applies (ops/sparse_choice.h). Printed
 * at log_level=info when some GEMM node has a zero block (a dense model's log is unchanged). */
#include <stdio.h>

#include "delegate.h"
#include "ops/sparse_choice.h"
#include "ops/util.h"
#include "sparse_report.h"

int el_gemm_problem_of(TfLiteContext* c, const TfLiteNode* node, int code, el_gemm_problem* out) {
  if ((code != kTfLiteBuiltinConv2d && code != kTfLiteBuiltinFullyConnected) || node->inputs->size < 2) return 0;
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* f = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* y = node->outputs->size > 0 ? el_tensor(c, node->outputs->data[0]) : NULL;
  if (x == NULL || f == NULL || y == NULL || f->type != kTfLiteInt8 || f->data.int8 == NULL || f->dims == NULL)
    return 0;
  const el_shape fs = el_tensor_shape(f), xs = el_tensor_shape(x), ys = el_tensor_shape(y);
  if (code == kTfLiteBuiltinConv2d) {
    if (fs.rank != 4 || xs.rank != 4 || ys.rank != 4 || fs.d[3] != xs.d[3]) return 0; /* grouped: not a GEMM */
    out->k = (size_t)fs.d[1] * (size_t)fs.d[2] * (size_t)fs.d[3];
    out->m = (size_t)ys.d[1] * (size_t)ys.d[2];
  } else {
    if (fs.rank != 2 || fs.d[1] <= 0) return 0;
    out->k = (size_t)fs.d[1];
    out->m = el_shape_elements(&xs) / out->k;
  }
  out->n = (size_t)fs.d[0];
  out->weights = f->data.int8;
  return out->n > 0 && out->k > 0;
}

void el_log_sparse_choice(const el_delegate* d, TfLiteContext* context, const TfLiteIntArray* claimed) {
  if ((int)d->options.log_level < kEdgeliftNeonLogInfo) return;
  char nodes[3072];
  int off = 0, gemm = 0, sparse = 0, pruned = 0;
  const char* variant = NULL;
  nodes[0] = '\0';
  for (int i = 0; i < claimed->size; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    if (context->GetNodeAndRegistration(context, claimed->data[i], &node, &reg) != kTfLiteOk) continue;
    el_gemm_problem problem = {0, 0, NULL, 0};
    if (!el_gemm_problem_of(context, node, reg->builtin_code, &problem)) continue;
    gemm++;
    double density = 1.0;
    const qs8_spgemm_ukernel* u = el_choose_sparse_gemm(&d->kernels, &problem, &density);
    if (density < 1.0) pruned++;
    if (u == NULL) continue;
    sparse++;
    variant = u->gemm.name;
    if (off < (int)sizeof nodes - 64) {
      off += snprintf(nodes + off, sizeof nodes - (size_t)off, "%s node %d %s %.2f", sparse > 1 ? "," : "",
                      claimed->data[i], reg->builtin_code == kTfLiteBuiltinConv2d ? "CONV_2D" : "FULLY_CONNECTED",
                      density);
    } else if (nodes[sizeof nodes - 2] != '.') {
      snprintf(nodes + sizeof nodes - 6, 6, ", ...");
    }
  }
  if (pruned == 0 && sparse == 0) return;
  if (sparse == 0) {
    el_log(d, kEdgeliftNeonLogInfo,
           "block-sparse GEMM on 0 of %d CONV_2D/FULLY_CONNECTED nodes (%d have zero 16x4 blocks, none few enough "
           "to pay off)",
           gemm, pruned);
    return;
  }
  el_log(d, kEdgeliftNeonLogInfo, "block-sparse GEMM (%s) on %d of %d CONV_2D/FULLY_CONNECTED nodes, 16x4 block "
         "density:%s", variant, sparse, gemm, nodes);
}
