/* The partition log's line naming the GEMM kernel of every delegated CONV_2D / FULLY_CONNECTED node, asked of the
 * same per-layer rule the nodes' prepare applies (ops/kernel_choice.h: sparse where it pays, else the register tile
 * that costs the shape least), grouped by kernel:
 *   GEMM kernels: qs8_gemm_4x16c4__neon_mlal (nodes 0 1 3), qs8_gemm_2x8__neon_mlal (node 5)
 * Printed at log_level=info wherever some delegated node is a GEMM. */
#include <stdio.h>
#include <string.h>

#include "delegate.h"
#include "gemm_report.h"
#include "sparse_report.h"

enum { MAX_KERNELS = 8, NODES_CAP = 512 };

void el_log_gemm_choice(const el_delegate* d, TfLiteContext* context, const TfLiteIntArray* claimed) {
  if ((int)d->options.log_level < kEdgeliftNeonLogInfo) return;
  const char* names[MAX_KERNELS];
  char nodes[MAX_KERNELS][NODES_CAP];
  int count[MAX_KERNELS], off[MAX_KERNELS], kinds = 0;
  for (int i = 0; i < claimed->size; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    if (context->GetNodeAndRegistration(context, claimed->data[i], &node, &reg) != kTfLiteOk) continue;
    el_gemm_problem problem = {0, 0, NULL, 0};
    if (!el_gemm_problem_of(context, node, reg->builtin_code, &problem)) continue;
    const qs8_gemm_ukernel* u = el_choose_gemm(&d->kernels, &problem);
    if (u == NULL) continue;
    int j = 0;
    while (j < kinds && strcmp(names[j], u->name) != 0) j++;
    if (j == kinds) {
      if (kinds == MAX_KERNELS) continue;
      names[j] = u->name, count[j] = 0, off[j] = 0, nodes[j][0] = '\0';
      kinds++;
    }
    count[j]++;
    if (off[j] < NODES_CAP - 16) {
      off[j] += snprintf(nodes[j] + off[j], NODES_CAP - (size_t)off[j], " %d", claimed->data[i]);
    } else if (nodes[j][NODES_CAP - 2] != '.') {
      snprintf(nodes[j] + NODES_CAP - 5, 5, " ...");
    }
  }
  if (kinds == 0) return;
  char line[MAX_KERNELS * (NODES_CAP + 64)];
  int at = snprintf(line, sizeof line, "GEMM kernels:");
  for (int j = 0; j < kinds; j++)
    at += snprintf(line + at, sizeof line - (size_t)at, "%s %s (node%s%s)", j ? "," : "", names[j],
                   count[j] > 1 ? "s" : "", nodes[j]);
  el_log(d, kEdgeliftNeonLogInfo, "%s", line);
}
