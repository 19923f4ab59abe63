/* The delegate role: DelegatePrepare checks the runtime's ABI, asks the op table about every node, hands
 * the claimed nodes to the runtime in one call and logs "N of M nodes delegated in K partitions", naming
 * the ops left behind. Also the public C interface (../include/edgelift_neon.h): options, create, delete. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delegate.h"
#include "kernels/qs8_gemm.h"
#include "ops/op.h"
#include "ops/util.h"
#include "shape_infer.h"
#include "gemm_report.h"
#include "sparse_report.h"

#define EL_EXPORT __attribute__((visibility("default")))

void el_log(const el_delegate* d, int level, const char* fmt, ...) {
  if (d != NULL && (int)d->options.log_level < level) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("edgelift-neon: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

typedef struct left_behind {
  int code;
  int count;
  const char* why;
} left_behind;

static const char* op_name(int code, char* buf, size_t cap) {
  const char* name = el_builtin_name(code);
  if (name != NULL) return name;
  snprintf(buf, cap, "unknown builtin %d", code); /* a code newer than the name table */
  return buf;
}

el_shadow* el_delegate_fresh_shadow(el_delegate* d, TfLiteContext* context) {
  size_t kept = 0;
  for (size_t i = 0; i < d->n_shadows; i++) {
    el_shadow* s = d->shadows[i];
    if (s->refs <= 1 || s->runtime_context == context) el_shadow_release(s); /* partitions keep theirs */
    else d->shadows[kept++] = s;
  }
  d->n_shadows = kept;
  el_shadow* s = el_shadow_create(context);
  if (s == NULL) return NULL;
  el_shadow** grown = (el_shadow**)realloc(d->shadows, (d->n_shadows + 1) * sizeof(el_shadow*));
  if (grown == NULL) {
    el_shadow_release(s);
    return NULL;
  }
  d->shadows = grown;
  d->shadows[d->n_shadows++] = s;
  return s;
}

el_shadow* el_delegate_shadow_of(const el_delegate* d, const TfLiteContext* context) {
  for (size_t i = 0; i < d->n_shadows; i++)
    if (d->shadows[i]->runtime_context == context) return d->shadows[i];
  return NULL;
}

/* The op's output_shape may read its int32 inputs' values and its options: it runs only when those are there
 * (NULL: inferable; else the reason). */
static const char* not_inferable(el_shadow* sh, const TfLiteNode* node, const el_op_def* def) {
  if (node->inputs->size > EL_MAX_INPUTS) return "more inputs than the delegate takes";
  if (def->init != NULL && node->builtin_data == NULL) return "no options";
  for (int k = 0; k < node->inputs->size; k++) {
    const int t = node->inputs->data[k];
    if (t < 0) continue;
    const TfLiteTensor* x = &sh->tensors[t];
    if (x->dims == NULL || x->dims->size > EL_MAX_DIMS) return "more than 6 dimensions";
    if (x->type != kTfLiteInt32 || el_is_const(x) || def->code == kTfLiteBuiltinShape) continue;
    /* int32 data whose values the shape does not need: the first input (SPLIT's is its axis, FILL's its
     * dims), every input of PACK and CONCATENATION, FILL's value */
    const int code = def->code;
    const int data = code == kTfLiteBuiltinPack || code == kTfLiteBuiltinConcatenation ||
                     (code == kTfLiteBuiltinFill ? k == 1 : k == 0 && code != kTfLiteBuiltinSplit);
    if (!data) return "int32 inputs not constant (a shape computed at run time)";
  }
  return NULL;
}

/* May the delegate claim node idx? Its output shapes are inferred first on the shadow (from the inferred input
 * shapes, by its op's output_shape), so the op's check sees real shapes and folded shape vectors as constants;
 * a claimed node of int32 shape arithmetic then folds its values. A node left to the runtime keeps the shapes
 * inferred, or, for ops outside the table, the file's when its inputs' shapes are the file's (else: unknown,
 * and so is everything computed from it). A runtime node that reads a folded vector makes its output dynamic;
 * the runtime then prepares the partitions after it again, with the real shapes, once it has run. */
static int claim(el_shadow* sh, TfLiteContext* context, int idx, TfLiteNode* node, TfLiteRegistration* reg,
                 const char** why) {
  const int code = reg->builtin_code;
  const el_op_def* def = el_op_find(code);
  int known = 1, changed = 0;
  el_shape ins[EL_MAX_INPUTS];
  memset(ins, 0, sizeof ins);
  for (int k = 0; k < node->inputs->size; k++) {
    const int t = node->inputs->data[k];
    if (t < 0) continue;
    if (sh->tensors[t].dims == NULL || context->tensors[t].dims == NULL) {
      known = 0;
      continue;
    }
    const el_shape now = el_shadow_shape(sh, t), file = el_tensor_shape(&context->tensors[t]);
    if (sh->unknown[t]) known = 0;
    if (memcmp(&now, &file, sizeof now) != 0) changed = 1;
    if (k < EL_MAX_INPUTS) ins[k] = now;
  }
  int inferred = 0, ok = 0;
  el_shape outs[EL_MAX_OUTPUTS];
  el_node n;
  memset(&n, 0, sizeof n);
  if (!known) {
    *why = "an input's shape is only known at run time";
  } else if (def == NULL) {
    ok = el_op_supported(&sh->context, node, code, reg->version, why); /* names the op as not implemented */
  } else if ((*why = not_inferable(sh, node, def)) != NULL) {
    /* *why: what the shape rule would need */
  } else if (!el_node_init(&n, node, code, idx)) {
    *why = "out of memory";
  } else if ((inferred = el_shadow_infer(sh, &n, ins, outs, why))) {
    ok = el_op_supported(&sh->context, node, code, reg->version, why);
  }
  if (ok && el_shadow_foldable(sh, &n)) { /* the op's own prepare and invoke compute the values */
    size_t scratch = 0;
    const el_kernels plain = {0, "scalar", EL_SPARSE_OFF, 1}; /* (folding: the dense reference) */
    if (n.def->prepare(&sh->context, &n, ins, outs, &plain, &scratch) == kTfLiteOk) el_shadow_fold(sh, &n);
  }
  if (n.def != NULL) el_node_free(&n);
  if (!ok && (!known || (!inferred && changed)))
    for (int k = 0; k < node->outputs->size; k++) sh->unknown[node->outputs->data[k]] = 1;
  return ok;
}

static TfLiteStatus delegate_prepare(TfLiteContext* context, TfLiteDelegate* base) {
  el_delegate* d = (el_delegate*)base;
  const char* abi = el_abi_check(context);
  if (abi != NULL) {
    context->ReportError(context,
                         "edgelift-neon: refusing to run: this TFLite runtime does not match the ABI the delegate "
                         "was written for (%s): %s. Use one of the tested runtimes or run without the delegate.",
                         EL_ABI_PINNED, abi);
    el_log(d, kEdgeliftNeonLogError, "refusing to run: runtime ABI mismatch: %s", abi);
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
  el_shadow* shadow = el_delegate_fresh_shadow(d, context);
  if (shadow == NULL) {
    free(claimed);
    free(left);
    return kTfLiteError;
  }
  claimed->size = 0;
  int n_left = 0;
  char buf[32];
  for (int i = 0; i < total; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    const int idx = plan->data[i];
    if (context->GetNodeAndRegistration(context, idx, &node, &reg) != kTfLiteOk) continue;
    const char* why = NULL;
    const char* name = op_name(reg->builtin_code, buf, sizeof buf);
    if (claim(shadow, context, idx, node, reg, &why)) {
      claimed->data[claimed->size++] = idx;
      el_log(d, kEdgeliftNeonLogDebug, "node %d %s: delegated", idx, name);
      continue;
    }
    el_log(d, kEdgeliftNeonLogDebug, "node %d %s: not delegated: %s", idx, name, why);
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
    for (int j = 0; j < n_left && off < (int)sizeof line - 64; j++)
      off += snprintf(line + off, sizeof line - (size_t)off, "%s %s x%d (%s)", j ? "," : "",
                      op_name(left[j].code, buf, sizeof buf), left[j].count, left[j].why);
  }
  el_log(d, kEdgeliftNeonLogInfo, "%s", line);
  el_log_sparse_choice(d, context, claimed);
  el_log_gemm_choice(d, context, claimed);
  TfLiteStatus status = kTfLiteOk;
  if (claimed->size > 0)
    status = context->ReplaceNodeSubsetsWithDelegateKernels(context, el_partition_registration(), claimed, base);
  free(claimed);
  free(left);
  return status;
}

/* ------------------------------------------------------------------------------------------------------ */
/* creation and the public C interface                                                                   */

const char* el_kernels_name(EdgeliftNeonKernels k) {
  switch (k) {
    case kEdgeliftNeonKernelsAuto: return "auto";
    case kEdgeliftNeonKernelsScalar: return "scalar";
    case kEdgeliftNeonKernelsNeon: return "neon";
    case kEdgeliftNeonKernelsDot: return "dot";
    case kEdgeliftNeonKernelsAvx2: return "avx2";
  }
  return NULL;
}

el_delegate* el_delegate_create(const EdgeliftNeonOptions* options, char* msg, size_t cap) {
  const EdgeliftNeonOptions o = options != NULL ? *options : EdgeliftNeonOptionsDefault();
  const char* kernels = el_kernels_name(o.kernels);
  if (o.num_threads < 1 || o.num_threads > 64) {
    snprintf(msg, cap, "edgelift-neon: num_threads=%d is not an integer from 1 to 64", o.num_threads);
    return NULL;
  }
  if (kernels == NULL) {
    snprintf(msg, cap, "edgelift-neon: kernels=%d is not one of auto, scalar, neon, dot, avx2", (int)o.kernels);
    return NULL;
  }
  if ((int)o.log_level < kEdgeliftNeonLogSilent || o.log_level > kEdgeliftNeonLogDebug) {
    snprintf(msg, cap, "edgelift-neon: log_level=%d is not one of silent, error, warning, info, debug (0-4)",
             (int)o.log_level);
    return NULL;
  }
  if (o.profile != 0 && o.profile != 1) {
    snprintf(msg, cap, "edgelift-neon: profile=%d is not 0 or 1", o.profile);
    return NULL;
  }
  const unsigned features = el_cpu_features();
  const qs8_gemm_ukernel* gemm = qs8_gemm_select(features, kernels);
  if (gemm == NULL) {
    snprintf(msg, cap,
             "edgelift-neon: kernels=%s is not available on this CPU (features 0x%x%s); use kernels=auto or scalar",
             kernels, features, (features & (EL_CPU_NEON | EL_CPU_AVX2)) == 0 ? ": no NEON and no AVX2" : "");
    return NULL;
  }
  el_delegate* d = (el_delegate*)calloc(1, sizeof *d);
  if (d == NULL) {
    snprintf(msg, cap, "edgelift-neon: out of memory");
    return NULL;
  }
  d->options = o;
  d->kernels.cpu_features = features;
  d->kernels.forced = kernels;
  d->kernels.fusion = 0; /* fuse=off unless the plugin's options say otherwise (plugin.c) */
  d->pool = el_pool_create(o.num_threads);
  d->base.data_ = d;
  d->base.Prepare = delegate_prepare;
  /* kTfLiteDelegateFlagsAllowDynamicTensors: graphs with shape-computing ops (SHAPE, PACK before a RESHAPE)
   * are delegated too; the partitioner only claims nodes whose tensors are static (not kTfLiteDynamic). */
  d->base.flags = 1;
  el_log(d, kEdgeliftNeonLogDebug, "created: kernels=%s -> %s, num_threads=%d", kernels,
         gemm->name, o.num_threads);
  return d;
}

void el_delegate_delete(el_delegate* d) {
  if (d == NULL) return;
  for (size_t i = 0; i < d->n_shadows; i++) el_shadow_release(d->shadows[i]); /* partitions may hold them */
  free(d->shadows);
  el_pool_destroy(d->pool);
  free(d);
}

EL_EXPORT EdgeliftNeonOptions EdgeliftNeonOptionsDefault(void) {
  EdgeliftNeonOptions o;
  memset(&o, 0, sizeof o);
  o.num_threads = 1;
  o.kernels = kEdgeliftNeonKernelsAuto;
  o.log_level = kEdgeliftNeonLogInfo;
  o.profile = 0;
  return o;
}

EL_EXPORT TfLiteDelegate* EdgeliftNeonDelegateCreate(const EdgeliftNeonOptions* options) {
  char msg[256];
  el_delegate* d = el_delegate_create(options, msg, sizeof msg);
  if (d == NULL) {
    el_log(NULL, kEdgeliftNeonLogError, "%s", msg + strlen("edgelift-neon: "));
    return NULL;
  }
  return &d->base;
}

EL_EXPORT void EdgeliftNeonDelegateDelete(TfLiteDelegate* delegate) { el_delegate_delete((el_delegate*)delegate); }

/* Introspection for tests and tools (not part of the TFLite plugin interface). */
EL_EXPORT const char* edgelift_neon_gemm_name(const char* kernels) {
  const qs8_gemm_ukernel* g = qs8_gemm_select(el_cpu_features(), kernels);
  return g ? g->name : NULL;
}

EL_EXPORT unsigned edgelift_neon_cpu_features(void) { return el_cpu_features(); }
