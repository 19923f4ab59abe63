/* The external-delegate entry points (load_delegate in LiteRT and tflite-runtime): they only parse the
 * key/value strings into EdgeliftNeonOptions; creation and its checks live in delegate.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delegate.h"
#include "ops/op.h"

#define EL_EXPORT __attribute__((visibility("default")))

/* sparse=auto|off|always (block-sparse GEMM by the cost rule, never, wherever a block is zero: ops/sparse_choice.h);
 * only here, not in EdgeliftNeonOptions, whose size is part of the C ABI. */
static const char* sparse_set(int* sparse, const char* value, char* msg, size_t cap) {
  static const char* names[] = {"auto", "off", "always"};
  for (int i = 0; i < 3; i++)
    if (strcmp(value, names[i]) == 0) {
      *sparse = i; /* EL_SPARSE_AUTO, _OFF, _ALWAYS */
      return NULL;
    }
  snprintf(msg, cap, "edgelift-neon: option sparse=%.40s is not one of auto, off, always", value);
  return msg;
}

/* fuse=off|add|dwconv|block|on|all (ops/fusion.h): residual ADDs in the GEMM epilogue; depthwise -> project 1x1
 * per row band; that with the expand 1x1 in front; add + dwconv; add + block. off (the default) runs every node
 * alone. Why off: the measurements in the README ("Fusion"). */
static const char* fuse_set(int* fusion, const char* value, char* msg, size_t cap) {
  static const struct {
    const char* name;
    int bits;
  } values[] = {{"off", 0},
                {"add", EL_FUSE_ADD},
                {"dwconv", EL_FUSE_DW_PROJECT},
                {"block", EL_FUSE_DW_PROJECT | EL_FUSE_EXPAND},
                {"on", EL_FUSE_ADD | EL_FUSE_DW_PROJECT},
                {"all", EL_FUSE_ADD | EL_FUSE_DW_PROJECT | EL_FUSE_EXPAND}};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
    if (strcmp(value, values[i].name) == 0) {
      *fusion = values[i].bits;
      return NULL;
    }
  snprintf(msg, cap, "edgelift-neon: option fuse=%.40s is not one of off, add, dwconv, block, on, all", value);
  return msg;
}

/* Returns NULL or a message naming the bad key/value and what is allowed. */
static const char* options_set(EdgeliftNeonOptions* o, int* sparse, int* fusion, const char* key,
                               const char* value, char* msg, size_t cap) {
  if (key == NULL || value == NULL) return "edgelift-neon: NULL option key or value";
  if (strcmp(key, "sparse") == 0) return sparse_set(sparse, value, msg, cap);
  if (strcmp(key, "fuse") == 0) return fuse_set(fusion, value, msg, cap);
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
    for (int k = kEdgeliftNeonKernelsAuto; k <= kEdgeliftNeonKernelsAvx2; k++)
      if (strcmp(value, el_kernels_name((EdgeliftNeonKernels)k)) == 0) {
        o->kernels = (EdgeliftNeonKernels)k;
        return NULL;
      }
    snprintf(msg, cap, "edgelift-neon: option kernels=%.40s is not one of auto, scalar, neon, dot, avx2", value);
    return msg;
  }
  if (strcmp(key, "log_level") == 0) {
    static const char* names[] = {"silent", "error", "warning", "info", "debug"};
    for (int i = 0; i < 5; i++)
      if (strcmp(value, names[i]) == 0) {
        o->log_level = (EdgeliftNeonLogLevel)i;
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
  snprintf(msg, cap, "edgelift-neon: unknown option '%.40s'; allowed: num_threads, kernels, log_level, profile, "
           "sparse, fuse",
           key);
  return msg;
}

static void report(void (*report_error)(const char*), const char* msg) {
  if (report_error != NULL) report_error(msg);
  else fprintf(stderr, "%s\n", msg);
}

EL_EXPORT TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t n,
                                                        void (*report_error)(const char*)) {
  EdgeliftNeonOptions o = EdgeliftNeonOptionsDefault();
  int sparse = 0, fusion = 0;
  char msg[256];
  for (size_t i = 0; i < n; i++) {
    const char* err = options_set(&o, &sparse, &fusion, keys ? keys[i] : NULL, values ? values[i] : NULL, msg, sizeof msg);
    if (err != NULL) {
      report(report_error, err);
      return NULL;
    }
  }
  el_delegate* d = el_delegate_create(&o, msg, sizeof msg);
  if (d == NULL) {
    report(report_error, msg);
    return NULL;
  }
  d->kernels.sparse = sparse;
  d->kernels.fusion = fusion;
  return &d->base;
}

EL_EXPORT void tflite_plugin_destroy_delegate(TfLiteDelegate* delegate) {
  el_delegate_delete((el_delegate*)delegate);
}
