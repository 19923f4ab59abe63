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
    if (el_op_supported(context, node, reg->builtin_code, reg->version, &why)) {
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
    snprintf(msg, cap, "edgelift-neon: kernels=%d is not one of auto, scalar, neon, dot", (int)o.kernels);
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
             kernels, features, features == 0 ? ": no NEON, e.g. x86-64" : "");
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
