/* The edgelift NEON delegate: options, the partitioner (the delegate role) and the kernel role.
 *
 * Delegate role: DelegatePrepare checks the runtime's ABI, asks el_op_supported() about every node,
 * hands the claimed nodes to the runtime in one call and logs "N of M nodes delegated in K partitions".
 * Kernel role: one instance per partition; init copies the nodes, prepare derives quantization parameters
 * and packs weights once, invoke only computes (tensor data pointers are looked up on every call).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/tflite_abi.h"
#include "kernels/qs8_gemm.h"
#include "ops/ops.h"
#include "profile_marker.h"
#include "threadpool.h"

#define EL_EXPORT __attribute__((visibility("default")))

enum { EL_LOG_SILENT = 0, EL_LOG_ERROR, EL_LOG_WARNING, EL_LOG_INFO, EL_LOG_DEBUG };

typedef struct el_options {
  int num_threads;
  char kernels[8]; /* auto | scalar | neon | dot */
  int log_level;
  int profile; /* 1: bracket each node's invoke with region markers for the Pi cost meter */
} el_options;

typedef struct el_delegate {
  TfLiteDelegate base; /* first: the runtime sees a TfLiteDelegate* */
  el_options options;
  unsigned cpu_features;
  const qs8_gemm_ukernel* gemm;
  el_pool* pool; /* num_threads > 1 */
} el_delegate;

typedef struct el_partition {
  el_delegate* delegate;
  int n_ops;
  el_op* ops;
  size_t n_tensors;
  unsigned char* internal; /* per tensor: produced inside the partition and not seen outside it */
  unsigned char* produced; /* per tensor: produced inside the partition */
  el_shape* shapes;        /* per produced tensor: its shape as of the last prepare */
  int8_t** own;            /* per tensor: where an internal tensor lives (inside `arena`), else NULL */
  int8_t* arena;           /* one block for all internal tensors, planned by lifetime at prepare */
  int separate;            /* sanitizer build: own[] entries are separate allocations */
  size_t arena_bytes;
  int8_t* scratch;
  size_t scratch_bytes;
} el_partition;

static void el_log(const el_delegate* d, int level, const char* fmt, ...) {
  if (d != NULL && d->options.log_level < level) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("edgelift-neon: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ------------------------------------------------------------------------------------------------------ */
/* kernel role                                                                                           */

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
  partition_release(p);
  if (p->ops)
    for (int i = 0; i < p->n_ops; i++) el_op_release(&p->ops[i]);
  free(p->ops);
  free(p->internal);
  free(p->produced);
  free(p->shapes);
  free(p->own);
  free(p);
}

static void* kernel_init(TfLiteContext* context, const char* buffer, size_t length) {
  (void)length;
  const TfLiteDelegateParams* params = (const TfLiteDelegateParams*)buffer;
  el_partition* p = (el_partition*)calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->delegate = (el_delegate*)params->delegate;
  p->n_ops = params->nodes_to_replace->size;
  p->n_tensors = context->tensors_size;
  p->ops = (el_op*)calloc((size_t)p->n_ops, sizeof(el_op));
  p->internal = (unsigned char*)calloc(p->n_tensors, 1);
  p->own = (int8_t**)calloc(p->n_tensors, sizeof(int8_t*));
  p->produced = (unsigned char*)calloc(p->n_tensors, 1);
  p->shapes = (el_shape*)calloc(p->n_tensors, sizeof(el_shape));
  if (!p->ops || !p->internal || !p->own || !p->produced || !p->shapes) {
    kernel_free(context, p);
    return NULL;
  }
  for (int i = 0; i < p->n_ops; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    const int idx = params->nodes_to_replace->data[i];
    if (context->GetNodeAndRegistration(context, idx, &node, &reg) != kTfLiteOk) {
      kernel_free(context, p);
      return NULL;
    }
    el_op_init(&p->ops[i], node, reg->builtin_code, idx);
    p->internal[p->ops[i].output] = 1;
    p->produced[p->ops[i].output] = 1;
  }
  for (int i = 0; i < params->output_tensors->size; i++) {
    const int t = params->output_tensors->data[i];
    if (t >= 0 && (size_t)t < p->n_tensors) p->internal[t] = 0;
  }
  return p;
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
    const size_t elem = context->tensors[t].type == kTfLiteInt32 ? 4 : 1;
    items[k].tensor = t;
    items[k].exact = el_shape_elements(&p->shapes[t]) * elem;
    items[k].bytes = (items[k].exact + 63) / 64 * 64;
    items[k].first = p->n_ops;
    items[k].last = -1;
    for (int i = 0; i < p->n_ops; i++) {
      const el_op* op = &p->ops[i];
      if ((size_t)op->output == t && i < items[k].first) items[k].first = i;
      for (int j = 0; j < op->n_inputs; j++)
        if (op->inputs[j] >= 0 && (size_t)op->inputs[j] == t) items[k].last = i;
    }
    if (items[k].last < items[k].first) items[k].last = items[k].first;
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

/* Shapes are propagated through the partition at every prepare (the runtime does not do it for delegated
 * nodes): input shapes come from the runtime, produced shapes from el_op_output_shape(); partition outputs
 * are resized through the runtime when they change (new batch size, shapes computed by SPACE_TO_BATCH_ND...). */
static TfLiteStatus kernel_prepare(TfLiteContext* context, TfLiteNode* node) {
  el_partition* p = (el_partition*)node->user_data;
  if (p == NULL) {
    context->ReportError(context, "edgelift-neon: partition failed to initialise (out of memory?)");
    return kTfLiteError;
  }
  partition_release(p);
  size_t scratch = 0;
  for (int i = 0; i < p->n_ops; i++) {
    el_op* op = &p->ops[i];
    el_shape ins[EL_MAX_INPUTS];
    memset(ins, 0, sizeof ins);
    for (int k = 0; k < op->n_inputs && k < EL_MAX_INPUTS; k++) {
      const int t = op->inputs[k];
      if (t < 0) continue;
      ins[k] = p->produced[t] ? p->shapes[t] : el_tensor_shape(&context->tensors[t]);
    }
    el_shape out;
    const char* why = NULL;
    if (!el_op_output_shape(context, op, ins, &out, &why)) {
      context->ReportError(context, "edgelift-neon: node %d (%s) cannot take the new input shapes: %s",
                           op->node_index, el_builtin_name(op->code), why);
      return kTfLiteError;
    }
    p->shapes[op->output] = out;
    TfLiteTensor* ot = &context->tensors[op->output];
    const el_shape now = el_tensor_shape(ot);
    if (memcmp(&now, &out, sizeof out) != 0) {
      if (p->internal[op->output]) {
        /* the runtime never allocates it; only its dims record is stale. Nothing to do. */
      } else {
        TfLiteIntArray* dims = (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + sizeof(int) * (size_t)out.rank);
        if (dims == NULL) return kTfLiteError;
        dims->size = out.rank;
        for (int d = 0; d < out.rank; d++) dims->data[d] = out.d[d];
        if (context->ResizeTensor(context, ot, dims) != kTfLiteOk) return kTfLiteError; /* takes ownership */
      }
    }
    if (el_op_prepare(context, op, ins, &out, p->delegate->gemm, &scratch) != kTfLiteOk) {
      context->ReportError(context, "edgelift-neon: out of memory preparing node %d (%s)", op->node_index,
                           el_builtin_name(op->code));
      return kTfLiteError;
    }
  }
  if (plan_arena(context, p) != kTfLiteOk) {
    context->ReportError(context, "edgelift-neon: out of memory (partition arena of %zu bytes)", p->arena_bytes);
    return kTfLiteError;
  }
  el_log(p->delegate, EL_LOG_DEBUG, "partition of %d nodes: arena %zu bytes, scratch %zu bytes", p->n_ops,
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
    for (int i = 0; i < p->n_ops; i++) el_op_invoke(&p->ops[i], &io, p->scratch);
    return kTfLiteOk;
  }
  for (int i = 0; i < p->n_ops; i++) {
    const uint32_t region = EL_MARK_CLASS_NODE << 24 | ((uint32_t)p->ops[i].node_index & 0xffffffu);
    el_mark(EL_MARK_BEGIN, region);
    el_op_invoke(&p->ops[i], &io, p->scratch);
    el_mark(EL_MARK_END, region);
  }
  return kTfLiteOk;
}

/* ------------------------------------------------------------------------------------------------------ */
/* delegate role: the partitioner                                                                        */

typedef struct left_behind {
  int code;
  int count;
  const char* why;
} left_behind;

static TfLiteStatus delegate_prepare(TfLiteContext* context, TfLiteDelegate* base) {
  el_delegate* d = (el_delegate*)base;
  const char* abi = el_abi_check(context);
  if (abi != NULL) {
    context->ReportError(context,
                         "edgelift-neon: refusing to run: this TFLite runtime does not match the ABI the delegate "
                         "was written for (%s): %s. Use one of the tested runtimes or run without the delegate.",
                         EL_ABI_PINNED, abi);
    el_log(d, EL_LOG_ERROR, "refusing to run: runtime ABI mismatch: %s", abi);
    return kTfLiteDelegateError;
  }
  TfLiteIntArray* plan = NULL;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  const int total = plan->size;
  TfLiteIntArray* claimed = (TfLiteIntArray*)malloc(sizeof(TfLiteIntArray) + sizeof(int) * (size_t)(total + 1));
  left_behind* left = (left_behind*)calloc((size_t)total + 1, sizeof(left_behind));
  if (claimed == NULL || left == NULL) {
    free(claimed);
    free(left);
    return kTfLiteError;
  }
  claimed->size = 0;
  int n_left = 0;
  for (int i = 0; i < total; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    const int idx = plan->data[i];
    if (context->GetNodeAndRegistration(context, idx, &node, &reg) != kTfLiteOk) continue;
    const char* why = NULL;
    if (el_op_supported(context, node, reg->builtin_code, reg->version, &why)) {
      claimed->data[claimed->size++] = idx;
      el_log(d, EL_LOG_DEBUG, "node %d %s: delegated", idx, el_builtin_name(reg->builtin_code));
      continue;
    }
    el_log(d, EL_LOG_DEBUG, "node %d %s: not delegated: %s", idx,
           el_builtin_name(reg->builtin_code) ? el_builtin_name(reg->builtin_code) : "?", why);
    int j = 0;
    while (j < n_left && left[j].code != reg->builtin_code) j++;
    if (j == n_left) {
      left[n_left].code = reg->builtin_code;
      left[n_left].why = why;
      n_left++;
    }
    left[j].count++;
  }
  int partitions = 0;
  if (claimed->size > 0 && context->PreviewDelegatePartitioning != NULL) {
    TfLiteDelegateParams* params = NULL;
    if (context->PreviewDelegatePartitioning(context, claimed, &params, &partitions) != kTfLiteOk) partitions = -1;
  }
  char line[1024];
  int off = snprintf(line, sizeof line, "%d of %d nodes delegated in %d partitions", claimed->size, total,
                     partitions);
  if (n_left > 0) {
    off += snprintf(line + off, sizeof line - (size_t)off, "; not delegated:");
    for (int j = 0; j < n_left && off < (int)sizeof line - 64; j++) {
      const char* name = el_builtin_name(left[j].code);
      char unknown[32];
      if (name == NULL) {
        snprintf(unknown, sizeof unknown, "builtin %d", left[j].code);
        name = unknown;
      }
      off += snprintf(line + off, sizeof line - (size_t)off, "%s %s x%d (%s)", j ? "," : "", name, left[j].count,
                      left[j].why);
    }
  }
  el_log(d, EL_LOG_INFO, "%s", line);
  TfLiteStatus status = kTfLiteOk;
  if (claimed->size > 0) {
    TfLiteRegistration reg;
    memset(&reg, 0, sizeof reg);
    reg.init = kernel_init;
    reg.free = kernel_free;
    reg.prepare = kernel_prepare;
    reg.invoke = kernel_invoke;
    reg.builtin_code = kTfLiteBuiltinCustom;
    reg.custom_name = "EdgeliftNeon";
    reg.version = 1;
    status = context->ReplaceNodeSubsetsWithDelegateKernels(context, reg, claimed, base);
  }
  free(claimed);
  free(left);
  return status;
}

/* ------------------------------------------------------------------------------------------------------ */
/* options and the external-delegate entry points                                                       */

static void options_default(el_options* o) {
  o->num_threads = 1;
  strcpy(o->kernels, "auto");
  o->log_level = EL_LOG_INFO;
  o->profile = 0;
}

/* Returns NULL or a message naming the bad key/value and what is allowed. */
static const char* options_set(el_options* o, const char* key, const char* value, char* msg, size_t cap) {
  if (key == NULL || value == NULL) return "edgelift-neon: NULL option key or value";
  if (strcmp(key, "num_threads") == 0) {
    char* end = NULL;
    errno = 0;
    const long v = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < 1 || v > 64) {
      snprintf(msg, cap, "edgelift-neon: option num_threads=%.40s is not an integer from 1 to 64", value);
      return msg;
    }
    o->num_threads = (int)v;
    return NULL;
  }
  if (strcmp(key, "kernels") == 0) {
    if (strcmp(value, "auto") && strcmp(value, "scalar") && strcmp(value, "neon") && strcmp(value, "dot")) {
      snprintf(msg, cap, "edgelift-neon: option kernels=%.40s is not one of auto, scalar, neon, dot", value);
      return msg;
    }
    strcpy(o->kernels, value);
    return NULL;
  }
  if (strcmp(key, "log_level") == 0) {
    static const char* names[] = {"silent", "error", "warning", "info", "debug"};
    for (int i = 0; i < 5; i++)
      if (strcmp(value, names[i]) == 0) {
        o->log_level = i;
        return NULL;
      }
    snprintf(msg, cap, "edgelift-neon: option log_level=%.40s is not one of silent, error, warning, info, debug",
             value);
    return msg;
  }
  if (strcmp(key, "profile") == 0) {
    if (strcmp(value, "0") && strcmp(value, "1")) {
      snprintf(msg, cap, "edgelift-neon: option profile=%.40s is not 0 or 1", value);
      return msg;
    }
    o->profile = value[0] == '1';
    return NULL;
  }
  snprintf(msg, cap, "edgelift-neon: unknown option '%.40s'; allowed: num_threads, kernels, log_level, profile",
           key);
  return msg;
}

static void report(void (*report_error)(const char*), const char* msg) {
  if (report_error != NULL) report_error(msg);
  else fprintf(stderr, "%s\n", msg);
}

EL_EXPORT TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t n,
                                                        void (*report_error)(const char*)) {
  el_options o;
  options_default(&o);
  char msg[256];
  for (size_t i = 0; i < n; i++) {
    const char* err = options_set(&o, keys ? keys[i] : NULL, values ? values[i] : NULL, msg, sizeof msg);
    if (err != NULL) {
      report(report_error, err);
      return NULL;
    }
  }
  const unsigned features = el_cpu_features();
  const qs8_gemm_ukernel* gemm = qs8_gemm_select(features, o.kernels);
  if (gemm == NULL) {
    snprintf(msg, sizeof msg,
             "edgelift-neon: kernels=%s is not available on this CPU (features 0x%x%s); use kernels=auto or scalar",
             o.kernels, features, features == 0 ? ": no NEON, e.g. x86-64" : "");
    report(report_error, msg);
    return NULL;
  }
  el_delegate* d = (el_delegate*)calloc(1, sizeof *d);
  if (d == NULL) {
    report(report_error, "edgelift-neon: out of memory");
    return NULL;
  }
  d->options = o;
  d->cpu_features = features;
  d->gemm = gemm;
  d->pool = el_pool_create(o.num_threads);
  d->base.data_ = d;
  d->base.Prepare = delegate_prepare;
  /* kTfLiteDelegateFlagsAllowDynamicTensors: graphs with shape-computing ops (SHAPE, PACK before a RESHAPE)
   * are delegated too; the partitioner only claims nodes whose tensors are static (not kTfLiteDynamic). */
  d->base.flags = 1;
  el_log(d, EL_LOG_DEBUG, "created: kernels=%s -> %s, num_threads=%d", o.kernels, gemm->name, o.num_threads);
  return &d->base;
}

EL_EXPORT void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  if (delegate == NULL) return;
  el_pool_destroy(((el_delegate*)delegate)->pool);
  free(delegate);
}

/* Introspection for tests and tools (not part of the TFLite plugin interface). */
EL_EXPORT const char* edgelift_neon_gemm_name(const char* kernels) {
  const qs8_gemm_ukernel* g = qs8_gemm_select(el_cpu_features(), kernels);
  return g ? g->name : NULL;
}

EL_EXPORT unsigned edgelift_neon_cpu_features(void) { return el_cpu_features(); }
