/* The fusion passes (fusion.h): residual ADDs into GEMM epilogues, depthwise -> project 1x1 per row band. */
#include "fusion.h"

static int is_gemm(int code) { return code == kTfLiteBuiltinConv2d || code == kTfLiteBuiltinFullyConnected; }

/* The one node reading tensor t (-1: none or several; t read twice by one node counts as several). */
static int only_reader(const el_node* nodes, int n_nodes, int t) {
  int reader = -1, reads = 0;
  for (int i = 0; i < n_nodes; i++)
    for (int k = 0; k < nodes[i].n_inputs; k++)
      if (nodes[i].inputs[k] == t) reader = i, reads++;
  return reads == 1 ? reader : -1;
}

static int producer(const el_node* nodes, int n_nodes, int t) {
  for (int i = 0; i < n_nodes; i++)
    for (int k = 0; k < nodes[i].n_outputs; k++)
      if (nodes[i].outputs[k] == t) return i;
  return -1;
}

int el_fuse_residual_adds(el_node* nodes, int n_nodes, const unsigned char* internal, int* fused_conv,
                          void (*log)(void* ctx, int gemm_node, int add_node, const char* why), void* ctx) {
  for (int i = 0; i < n_nodes; i++) fused_conv[i] = -1;
  int pairs = 0;
  for (int i = 0; i < n_nodes; i++) {
    el_node* g = &nodes[i];
    if (!is_gemm(g->code) || g->n_outputs != 1 || !internal[g->output]) continue; /* (a graph output is seen) */
    const int j = only_reader(nodes, n_nodes, g->output);
    if (j < 0 || nodes[j].code != kTfLiteBuiltinAdd || nodes[j].n_inputs != 2 || fused_conv[j] >= 0) continue;
    const el_node* add = &nodes[j];
    const int conv_input = add->inputs[0] == g->output ? 0 : 1;
    const int residual = add->inputs[1 - conv_input];
    const char* why = NULL;
    qs8_vbinary_params params;
    if (residual < 0) continue;
    /* the residual must exist when the GEMM runs: produced before it, or outside the partition */
    const int made = producer(nodes, n_nodes, residual);
    if (made >= i) why = "the residual is computed after the GEMM";
    else if (el_add_fusion_params(add, conv_input, &params, &why) && el_gemm_fuse_add(g, residual, add->output,
                                                                                   &params, &why)) {
      fused_conv[j] = i;
      pairs++;
    }
    if (log != NULL) log(ctx, g->node_index, add->node_index, fused_conv[j] == i ? NULL : why);
  }
  return pairs;
}

int el_fuse_dw_projects(el_node* nodes, int n_nodes, const unsigned char* internal, int* computed_by, int threads,
                        size_t* scratch,
                        void (*log)(void* ctx, const el_node* dw, const el_node* conv, const char* why), void* ctx) {
  int pairs = 0;
  for (int i = 0; i < n_nodes; i++) {
    el_node* dw = &nodes[i];
    if (dw->code != kTfLiteBuiltinDepthwiseConv2d || dw->n_outputs != 1 || !internal[dw->output]) continue;
    const int j = only_reader(nodes, n_nodes, dw->output);
    if (j < 0 || nodes[j].code != kTfLiteBuiltinConv2d || nodes[j].inputs[0] != dw->output) continue;
    const char* why = NULL;
    for (int a = 0; a < n_nodes && why == NULL; a++) /* its fused ADD's residual must exist at the depthwise */
      if (computed_by[a] == j)
        for (int k = 0; k < nodes[a].n_inputs; k++)
          if (nodes[a].inputs[k] != nodes[j].output && producer(nodes, n_nodes, nodes[a].inputs[k]) >= i)
            why = "the fused ADD's residual is computed after the depthwise";
    if (why == NULL && el_dw_fuse_project(dw, &nodes[j], threads, scratch, &why)) {
      computed_by[j] = i;
      pairs++;
    }
    if (log != NULL) log(ctx, dw, &nodes[j], computed_by[j] == i ? NULL : why);
  }
  return pairs;
}

int el_fuse_dw_expands(el_node* nodes, int n_nodes, const unsigned char* internal, int* computed_by, int threads,
                       size_t* scratch,
                       void (*log)(void* ctx, const el_node* expand, const el_node* dw, const char* why), void* ctx) {
  int fused = 0;
  for (int i = 0; i < n_nodes; i++) {
    el_node* dw = &nodes[i];
    if (dw->code != kTfLiteBuiltinDepthwiseConv2d || !internal[dw->inputs[0]]) continue;
    const int e = producer(nodes, n_nodes, dw->inputs[0]);
    if (e < 0 || nodes[e].code != kTfLiteBuiltinConv2d || nodes[e].n_outputs != 1 || computed_by[e] >= 0 ||
        only_reader(nodes, n_nodes, dw->inputs[0]) != i)
      continue;
    const char* why = NULL;
    if (el_dw_fuse_expand(dw, &nodes[e], threads, scratch, &why)) {
      computed_by[e] = i;
      fused++;
    }
    if (log != NULL) log(ctx, &nodes[e], dw, computed_by[e] == i ? NULL : why);
  }
  return fused;
}
