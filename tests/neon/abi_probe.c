/* A fake TFLite runtime for tests/neon/test_abi.py: hands the delegate a TfLiteContext whose tensors have
 * either the pinned layout or a layout with a different TfLiteTensor size (as a runtime with an appended
 * field would), and prints what the delegate's Prepare returned and reported.
 * Usage: abi_probe LIBRARY good|bigger-tensor|smaller-tensor */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/tflite_abi.h"

static char reported[2048];

static void report_error(TfLiteContext* context, const char* fmt, ...) {
  (void)context;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reported, sizeof reported, fmt, ap);
  va_end(ap);
}

static TfLiteIntArray* plan;
static TfLiteStatus get_plan(TfLiteContext* context, TfLiteIntArray** out) {
  (void)context;
  *out = plan;
  return kTfLiteOk;
}
static TfLiteStatus get_node(TfLiteContext* c, int i, TfLiteNode** n, TfLiteRegistration** r) {
  (void)c, (void)i, (void)n, (void)r;
  return kTfLiteError;
}
static TfLiteStatus replace(TfLiteContext* c, TfLiteRegistration r, const TfLiteIntArray* n, TfLiteDelegate* d) {
  (void)c, (void)r, (void)n, (void)d;
  return kTfLiteOk;
}
static TfLiteStatus preview(TfLiteContext* c, const TfLiteIntArray* n, TfLiteDelegateParams** p, int* k) {
  (void)c, (void)n, (void)p;
  *k = 0;
  return kTfLiteOk;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    printf("dlopen failed: %s\n", dlerror());
    return 2;
  }
  TfLiteDelegate* (*create)(char**, char**, size_t, void (*)(const char*)) =
      (TfLiteDelegate * (*)(char**, char**, size_t, void (*)(const char*))) dlsym(lib, "tflite_plugin_create_delegate");
  void (*destroy)(TfLiteDelegate*) = (void (*)(TfLiteDelegate*))dlsym(lib, "tflite_plugin_destroy_delegate");
  char* keys[] = {"log_level"};
  char* values[] = {"silent"};
  TfLiteDelegate* d = create(keys, values, 1, NULL);
  /* the runtime's tensor stride: ours, or 8 bytes more / less */
  const long delta = strcmp(argv[2], "bigger-tensor") == 0 ? 8 : strcmp(argv[2], "smaller-tensor") == 0 ? -8 : 0;
  const size_t stride = sizeof(TfLiteTensor) + delta;
  enum { N = 4 };
  unsigned char* raw = calloc(N, stride + 16);
  static int dims_storage[N][3];
  for (int i = 0; i < N; i++) {
    TfLiteTensor t;
    memset(&t, 0, sizeof t);
    TfLiteIntArray* dims = (TfLiteIntArray*)dims_storage[i];
    dims->size = 2;
    dims->data[0] = 1;
    dims->data[1] = 3 + i;
    t.type = kTfLiteFloat32;
    t.dims = dims;
    t.bytes = (size_t)(3 + i) * 4;
    t.allocation_type = kTfLiteArenaRw;
    memcpy(raw + (size_t)i * stride, &t, stride < sizeof t ? stride : sizeof t); /* the runtime's own layout */
  }
  plan = calloc(1, sizeof(TfLiteIntArray));
  TfLiteContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.tensors_size = N;
  ctx.tensors = (TfLiteTensor*)(void*)raw;
  ctx.GetExecutionPlan = get_plan;
  ctx.GetNodeAndRegistration = get_node;
  ctx.ReplaceNodeSubsetsWithDelegateKernels = replace;
  ctx.PreviewDelegatePartitioning = preview;
  ctx.ReportError = report_error;
  ctx.recommended_num_threads = 1;
  const TfLiteStatus status = d->Prepare(&ctx, d);
  printf("status=%d\nreported=%s\n", (int)status, reported);
  destroy(d);
  free(raw);
  free(plan);
  return 0;
}
