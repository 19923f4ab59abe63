/* The kernel role: one instance per partition of delegated nodes. Init copies the nodes and gives each its
 * op's state; prepare propagates shapes, lets every op derive quantization parameters, choose its kernel and
 * pack weights, and plans one arena for the partition's internal tensors; invoke only computes (tensor data
 * pointers are looked up on every call). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delegate.h"
#include "ops/fusion.h"
#include "ops/op.h"
#include "ops/util.h"
#include "profile_marker.h"
#include "shape_infer.h"

typedef struct el_partition {
  el_delegate* delegate;
  int n_nodes;
  el_node* nodes;
  size_t n_tensors;
  unsigned char* internal; /* per tensor: produced inside the partition and not seen outside it */
  unsigned char* produced; /* per tensor: produced inside the partition */
  el_shape* shapes;        /* per produced tensor: its shape as of the last prepare */
  int* computed_by;        /* per node: the node whose invoke computes it (a fused ADD or 1x1; skipped), else -1 */
  int8_t** own;            /* per tensor: where an internal tensor lives (inside `arena`), else NULL */
  int8_t* arena;           /* one block for all internal tensors, planned by lifetime at prepare */
  int separate;            /* sanitizer build: own[] entries are separate allocations */
  size_t arena_bytes;
  int8_t* scratch;
  size_t scratch_bytes;
  struct el_shadow* shadow; /* this interpreter's inferred shapes and folded values, shared by its partitions */
} el_partition;

/* shape-dependent buffers; the ops' packed weights live until kernel_free */
static void partition_release(el_partition* p) {
  if (p->own && p->separate)
    for (size_t t = 0; t < p->n_tensors; t++) free(p->own[t]);
  if (p->own) memset(p->own, 0, p->n_tensors * sizeof(int8_t*));
  free(p->arena);
  p->arena = NULL;
  p->arena_bytes = 0;
  free(p->scratch);
  p->scratch = NULL;
  p->scratch_bytes = 0;
}

static void kernel_free(TfLiteContext* context, void* buffer) {
  (void)context;
  el_partition* p = (el_partition*)buffer;
  if (p == NULL) return;
  el_shadow_release(p->shadow); /* (never the delegate: it may be gone by now) */
  partition_release(p);
  for (int i = 0; p->nodes != NULL && i < p->n_nodes; i++) {
    el_node* node = &p->nodes[i];
    if (node->def != NULL) el_node_free(node);
  }
  free(p->nodes);
  free(p->internal);
  free(p->produced);
  free(p->shapes);
  free(p->computed_by);
  free(p->own);
  free(p);
}

static void* kernel_init(TfLiteContext* context, const char* buffer, size_t length) {
  (void)length;
  const TfLiteDelegateParams* params = (const TfLiteDelegateParams*)buffer;
  el_partition* p = (el_partition*)calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->delegate = (el_delegate*)params->delegate;
  p->shadow = el_delegate_shadow_of(p->delegate, context);
  if (p->shadow != NULL) el_shadow_retain(p->shadow);
  p->n_nodes = params->nodes_to_replace->size;
  p->n_tensors = context->tensors_size;
  p->nodes = (el_node*)calloc((size_t)p->n_nodes, sizeof(el_node));
  p->internal = (unsigned char*)calloc(p->n_tensors, 1);
  p->own = (int8_t**)calloc(p->n_tensors, sizeof(int8_t*));
  p->produced = (unsigned char*)calloc(p->n_tensors, 1);
  p->shapes = (el_shape*)calloc(p->n_tensors, sizeof(el_shape));
  p->computed_by = (int*)malloc(sizeof(int) * (size_t)(p->n_nodes + 1));
  if (!p->nodes || !p->internal || !p->own || !p->produced || !p->shapes || !p->computed_by) {
    kernel_free(context, p);
    return NULL;
  }
  for (int i = 0; i < p->n_nodes; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    const int idx = params->nodes_to_replace->data[i];
    if (context->GetNodeAndRegistration(context, idx, &node, &reg) != kTfLiteOk) {
      kernel_free(context, p);
      return NULL;
    }
    if (!el_node_init(&p->nodes[i], node, reg->builtin_code, idx)) {
      kernel_free(context, p);
      return NULL;
    }
    for (int k = 0; k < p->nodes[i].n_outputs; k++) {
      p->internal[p->nodes[i].outputs[k]] = 1;
      p->produced[p->nodes[i].outputs[k]] = 1;
    }
  }
  for (int i = 0; i < params->output_tensors->size; i++) {
    const int t = params->output_tensors->data[i];
    if (t >= 0 && (size_t)t < p->n_tensors) p->internal[t] = 0;
  }
  for (int i = 0; i < p->n_nodes; i++) p->computed_by[i] = -1;
  return p;
}

/* Where node i runs: itself, or (fused) the node that computes it, through chains (depthwise -> 1x1 -> ADD). */
static int runs_at(const el_partition* p, int i) {
  while (p->computed_by[i] >= 0) i = p->computed_by[i];
  return i;
}

/* Internal tensors share one arena: each lives from the op that produces it to the last op that reads it;
 * greedy placement, largest first, at the lowest offset free during its lifetime. */
static TfLiteStatus plan_arena(TfLiteContext* context, el_partition* p) {
  typedef struct {
    size_t tensor, bytes, exact, offset;
    int first, last;
  } item;
  size_t n = 0;
  for (size_t t = 0; t < p->n_tensors; t++) n += p->internal[t];
  item* items = (item*)calloc(n + 1, sizeof(item));
  if (items == NULL) return kTfLiteError;
  size_t k = 0;
  for (size_t t = 0; t < p->n_tensors; t++) {
    if (!p->internal[t]) continue;
    const TfLiteType type = context->tensors[t].type;
    const size_t elem = type == kTfLiteInt32 || type == kTfLiteFloat32 ? 4 : 1;
    items[k].tensor = t;
    items[k].exact = el_shape_elements(&p->shapes[t]) * elem;
    items[k].bytes = (items[k].exact + 63) / 64 * 64;
    items[k].first = p->n_nodes;
    items[k].last = -1;
    int made = -1, readers = 0, reader = -1;
    for (int i = 0; i < p->n_nodes; i++) {
      const el_node* op = &p->nodes[i];
      const int written = runs_at(p, i); /* a fused node's output: by the node that computes it */
      for (int j = 0; j < op->n_outputs; j++)
        if ((size_t)op->outputs[j] == t && written < items[k].first) items[k].first = written, made = i;
      for (int j = 0; j < op->n_inputs; j++) /* (a fused expand reads its input later, where it runs) */
        if (op->inputs[j] >= 0 && (size_t)op->inputs[j] == t) {
          if (written > items[k].last) items[k].last = written;
          if (i > items[k].last) items[k].last = i;
          reader = i, readers++;
        }
    }
    if (items[k].last < items[k].first) items[k].last = items[k].first;
    /* read only by a node fused with its producer (a GEMM's output into its ADD, a depthwise's into its 1x1, an
     * expand's into its depthwise): never stored, it takes no room */
    if (readers == 1 && made >= 0 && (p->computed_by[reader] == made || p->computed_by[made] == reader))
      items[k].bytes = 0;
    k++;
  }
  /* largest first (insertion sort: partitions hold tens to hundreds of tensors) */
  for (size_t i = 1; i < n; i++) {
    item v = items[i];
    size_t j = i;
    while (j > 0 && items[j - 1].bytes < v.bytes) {
      items[j] = items[j - 1];
      j--;
    }
    items[j] = v;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    size_t offset = 0;
    int moved = 1;
    while (moved) { /* first fit: bump past every placed, lifetime-overlapping block it collides with */
      moved = 0;
      for (size_t j = 0; j < i; j++) {
        const int live = !(items[j].last < items[i].first || items[i].last < items[j].first);
        const int hit = offset < items[j].offset + items[j].bytes && items[j].offset < offset + items[i].bytes;
        if (live && hit) {
          offset = items[j].offset + items[j].bytes;
          moved = 1;
        }
      }
    }
    items[i].offset = offset;
    if (offset + items[i].bytes > total) total = offset + items[i].bytes;
  }
  p->arena_bytes = total;
#if defined(__SANITIZE_ADDRESS__)
  /* sanitizer build: one allocation per tensor, so AddressSanitizer's redzones sit between tensors */
  p->separate = 1;
  for (size_t i = 0; i < n; i++) {
    p->own[items[i].tensor] = (int8_t*)malloc(items[i].exact ? items[i].exact : 1);
    if (p->own[items[i].tensor] == NULL) {
      free(items);
      return kTfLiteError;
    }
  }
  free(items);
  return kTfLiteOk;
#endif
  p->arena = (int8_t*)malloc(total + 64);
  if (p->arena == NULL) {
    free(items);
    return kTfLiteError;
  }
  for (size_t i = 0; i < n; i++) p->own[items[i].tensor] = p->arena + items[i].offset;
  free(items);
  return kTfLiteOk;
}

static void log_fusion(void* ctx, int gemm_node, int add_node, const char* why) {
  const el_partition* p = (const el_partition*)ctx;
  if (why == NULL) el_log(p->delegate, kEdgeliftNeonLogDebug, "nodes %d+%d: ADD fused into the GEMM's epilogue",
                          gemm_node, add_node);
  else el_log(p->delegate, kEdgeliftNeonLogDebug, "nodes %d+%d: ADD not fused: %s", gemm_node, add_node, why);
}

static void log_dw_fusion(void* ctx, const el_node* dw, const el_node* conv, const char* why) {
  const el_partition* p = (const el_partition*)ctx;
  size_t rows, halo;
  el_dw_band_geometry(dw, &rows, &halo);
  if (why == NULL)
    el_log(p->delegate, kEdgeliftNeonLogDebug,
           "nodes %d+%d: 1x1 fused into the depthwise's row bands (%zu rows a band)", dw->node_index,
           conv->node_index, rows);
  else el_log(p->delegate, kEdgeliftNeonLogDebug, "nodes %d+%d: 1x1 not fused: %s", dw->node_index, conv->node_index,
              why);
}

static void log_expand_fusion(void* ctx, const el_node* expand, const el_node* dw, const char* why) {
  const el_partition* p = (const el_partition*)ctx;
  size_t rows, halo;
  el_dw_band_geometry(dw, &rows, &halo);
  if (why == NULL)
    el_log(p->delegate, kEdgeliftNeonLogDebug,
           "nodes %d+%d: expand 1x1 fused into the depthwise's row bands (%zu rows a band, up to %zu input rows)",
           expand->node_index, dw->node_index, rows, halo);
  else el_log(p->delegate, kEdgeliftNeonLogDebug, "nodes %d+%d: expand 1x1 not fused: %s", expand->node_index,
              dw->node_index, why);
}

/* One line naming the pairs a pass fused: the nodes of kind `code` computed by another (`after`: named after it,
 * "producer+consumer", else before it, as an expand is its depthwise's producer). */
static void log_pairs(const el_partition* p, int pairs, const char* what, int code, int after) {
  char line[1024];
  int off = snprintf(line, sizeof line, "fused %d %s (nodes", pairs, what);
  for (int i = 0; i < p->n_nodes && off < (int)sizeof line - 32; i++) {
    if (p->computed_by[i] < 0 || p->nodes[i].code != code) continue;
    const int by = p->nodes[p->computed_by[i]].node_index, me = p->nodes[i].node_index;
    const int is_expand = p->computed_by[i] > i;
    if (is_expand == after) continue; /* (the other pass's kind of CONV_2D) */
    off += snprintf(line + off, sizeof line - (size_t)off, " %d+%d", after ? by : me, after ? me : by);
  }
  el_log(p->delegate, kEdgeliftNeonLogInfo, "%s)", line);
}

/* The fusions the fuse= option asks for (ops/fusion.h), after the ops' prepare: residual ADDs into their GEMMs'
 * epilogues, then 1x1 convs into their depthwise's row bands (*scratch grows by the bands); one line each. */
static void fuse(el_partition* p, size_t* scratch) {
  const int fusion = p->delegate->kernels.fusion;
  for (int i = 0; i < p->n_nodes; i++) p->computed_by[i] = -1;
  if (fusion & EL_FUSE_ADD) {
    const int pairs = el_fuse_residual_adds(p->nodes, p->n_nodes, p->internal, p->computed_by, log_fusion, p);
    if (pairs > 0) log_pairs(p, pairs, pairs == 1 ? "ADD into GEMM epilogues" : "ADDs into GEMM epilogues",
                             kTfLiteBuiltinAdd, 1);
  }
  if (fusion & EL_FUSE_DW_PROJECT) {
    const int pairs = el_fuse_dw_projects(p->nodes, p->n_nodes, p->internal, p->computed_by,
                                          el_pool_threads(p->delegate->pool), scratch, log_dw_fusion, p);
    if (pairs > 0) log_pairs(p, pairs, pairs == 1 ? "1x1 CONV_2D into depthwise row bands"
                                                  : "1x1 CONV_2Ds into depthwise row bands", kTfLiteBuiltinConv2d,
                             1);
  }
  if (fusion & EL_FUSE_EXPAND) {
    const int pairs = el_fuse_dw_expands(p->nodes, p->n_nodes, p->internal, p->computed_by,
                                         el_pool_threads(p->delegate->pool), scratch, log_expand_fusion, p);
    if (pairs > 0) log_pairs(p, pairs, pairs == 1 ? "expand 1x1 into depthwise row bands"
                                                  : "expand 1x1s into depthwise row bands", kTfLiteBuiltinConv2d, 0);
  }
}

/* Shapes are propagated through the partition at every prepare (the runtime does not do it for delegated
 * nodes): input shapes come from the runtime, produced shapes from each op's output_shape() on the delegate's
 * shadow (shape_infer.h), which also folds the int32 shape vectors a RESHAPE or FILL sizes itself with;
 * partition outputs are resized through the runtime when they change (new batch size, computed shapes). */
static TfLiteStatus kernel_prepare(TfLiteContext* context, TfLiteNode* node) {
  el_partition* p = (el_partition*)node->user_data;
  if (p == NULL) {
    context->ReportError(context, "edgelift-neon: partition failed to initialise (out of memory?)");
    return kTfLiteError;
  }
  partition_release(p);
  el_delegate* d = p->delegate;
  if (p->shadow != NULL && p->shadow->n != (size_t)context->tensors_size) {
    el_shadow_release(p->shadow); /* (the runtime added tensors: a shadow of this partition's own) */
    p->shadow = NULL;
  }
  if (p->shadow == NULL) p->shadow = el_shadow_create(context);
  el_shadow* sh = p->shadow;
  if (sh == NULL) {
    context->ReportError(context, "edgelift-neon: out of memory (shape inference)");
    return kTfLiteError;
  }
  el_shadow_sync(sh, context);
  size_t scratch = 0;
  for (int i = 0; i < p->n_nodes; i++) {
    el_node* op = &p->nodes[i];
    el_shape ins[EL_MAX_INPUTS];
    memset(ins, 0, sizeof ins);
    for (int k = 0; k < op->n_inputs && k < EL_MAX_INPUTS; k++) {
      const int t = op->inputs[k];
      if (t < 0) continue;
      ins[k] = p->produced[t] ? p->shapes[t] : el_shadow_shape(sh, t);
    }
    const int max_rank = op->code == kTfLiteBuiltinBatchMatmul ? 5 : 4; /* BATCH_MATMUL takes rank 5 */
    for (int k = 0; k < op->n_inputs; k++)
      if (op->inputs[k] >= 0 && ins[k].rank > max_rank) {
        context->ReportError(context, "edgelift-neon: node %d (%s) cannot take the new input shapes: %s",
                             op->node_index, op->def->name, "more than 4 dimensions");
        return kTfLiteError;
      }
    el_shape outs[EL_MAX_OUTPUTS];
    const char* why = NULL;
    if (!el_shadow_infer(sh, op, ins, outs, &why)) {
      context->ReportError(context, "edgelift-neon: node %d (%s) cannot take the new input shapes: %s",
                           op->node_index, op->def->name, why);
      return kTfLiteError;
    }
    for (int k = 0; k < op->n_outputs; k++) {
      const el_shape out = outs[k];
      p->shapes[op->outputs[k]] = out;
      TfLiteTensor* ot = &context->tensors[op->outputs[k]];
      const el_shape now = el_tensor_shape(ot);
      if (memcmp(&now, &out, sizeof out) == 0 || p->internal[op->outputs[k]]) continue;
      /* (an internal tensor is never allocated by the runtime; only its dims record is stale) */
      TfLiteIntArray* dims = (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + sizeof(int) * (size_t)out.rank);
      if (dims == NULL) return kTfLiteError;
      dims->size = out.rank;
      for (int dd = 0; dd < out.rank; dd++) dims->data[dd] = out.d[dd];
      if (context->ResizeTensor(context, ot, dims) != kTfLiteOk) return kTfLiteError; /* takes ownership */
    }
    /* the ops read shapes and constant (or folded) int32 values through the shadow */
    if (op->def->prepare(&sh->context, op, ins, outs, &d->kernels, &scratch) != kTfLiteOk) {
      context->ReportError(context, "edgelift-neon: out of memory preparing node %d (%s)", op->node_index,
                           op->def->name);
      return kTfLiteError;
    }
    el_shadow_fold(sh, op); /* shape vectors later nodes and partitions size themselves with */
  }
  fuse(p, &scratch);
  if (plan_arena(context, p) != kTfLiteOk) {
    context->ReportError(context, "edgelift-neon: out of memory (partition arena of %zu bytes)", p->arena_bytes);
    return kTfLiteError;
  }
  el_log(p->delegate, kEdgeliftNeonLogDebug, "partition of %d nodes: arena %zu bytes, scratch %zu bytes", p->n_nodes,
         p->arena_bytes, scratch);
  p->scratch_bytes = scratch;
  p->scratch = (int8_t*)malloc(scratch + 64);
  if (p->scratch == NULL) {
    context->ReportError(context, "edgelift-neon: out of memory (%zu bytes scratch)", scratch);
    return kTfLiteError;
  }
  return kTfLiteOk;
}

static TfLiteStatus kernel_invoke(TfLiteContext* context, TfLiteNode* node) {
  el_partition* p = (el_partition*)node->user_data;
  if (p == NULL || p->scratch == NULL) return kTfLiteError;
  const el_io io = {context, p->own, p->delegate->pool};
  if (!p->delegate->options.profile) {
    for (int i = 0; i < p->n_nodes; i++)
      if (p->computed_by[i] < 0) p->nodes[i].def->invoke(&p->nodes[i], &io, p->scratch);
    return kTfLiteOk;
  }
  for (int i = 0; i < p->n_nodes; i++) {
    if (p->computed_by[i] >= 0) continue; /* computed by its GEMM (the GEMM's region holds it) */
    const uint32_t region = EL_MARK_CLASS_NODE << 24 | ((uint32_t)p->nodes[i].node_index & 0xffffffu);
    el_mark(EL_MARK_BEGIN, region);
    p->nodes[i].def->invoke(&p->nodes[i], &io, p->scratch);
    el_mark(EL_MARK_END, region);
  }
  return kTfLiteOk;
}

TfLiteRegistration el_partition_registration(void) {
  TfLiteRegistration reg;
  memset(&reg, 0, sizeof reg);
  reg.init = kernel_init;
  reg.free = kernel_free;
  reg.prepare = kernel_prepare;
  reg.invoke = kernel_invoke;
  reg.builtin_code = kTfLiteBuiltinCustom;
  reg.custom_name = "EdgeliftNeon";
  reg.version = 1;
  return reg;
}
