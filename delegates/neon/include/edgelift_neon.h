/* The edgelift NEON delegate's C interface, for applications that link it directly (as TFLite's sample
 * delegates offer); Python and other hosts load the same library as an external delegate
 * (tflite_plugin_create_delegate), whose key/value options map onto EdgeliftNeonOptions one to one.
 *
 *   EdgeliftNeonOptions o = EdgeliftNeonOptionsDefault();
 *   o.num_threads = 4;
 *   TfLiteDelegate* d = EdgeliftNeonDelegateCreate(&o);   // NULL options = defaults; NULL result = refused
 *   ... TfLiteInterpreterOptionsAddDelegate(options, d) / interpreter->ModifyGraphWithDelegate(d) ...
 *   EdgeliftNeonDelegateDelete(d);                         // after the interpreter is gone
 */
#ifndef EDGELIFT_NEON_H
#define EDGELIFT_NEON_H

#ifdef __cplusplus
extern "C" {
#endif

struct TfLiteDelegate;

typedef enum EdgeliftNeonKernels {
  kEdgeliftNeonKernelsAuto = 0,   /* the best variant this CPU has */
  kEdgeliftNeonKernelsScalar = 1, /* the portable reference (tests) */
  kEdgeliftNeonKernelsNeon = 2,   /* an ARMv8.0 NEON variant; refused where the CPU lacks NEON */
  kEdgeliftNeonKernelsDot = 3,    /* an ARMv8.2 dot-product variant; refused where the CPU lacks SDOT */
  kEdgeliftNeonKernelsAvx2 = 4,   /* the x86-64 AVX2 variants; refused where the CPU lacks AVX2 */
} EdgeliftNeonKernels;

typedef enum EdgeliftNeonLogLevel {
  kEdgeliftNeonLogSilent = 0,
  kEdgeliftNeonLogError = 1,
  kEdgeliftNeonLogWarning = 2,
  kEdgeliftNeonLogInfo = 3, /* one line a model: "N of M nodes delegated in K partitions; not delegated: ..." */
  kEdgeliftNeonLogDebug = 4,
} EdgeliftNeonLogLevel;

typedef struct EdgeliftNeonOptions {
  int num_threads; /* 1 to 64 */
  EdgeliftNeonKernels kernels;
  EdgeliftNeonLogLevel log_level;
  int profile; /* 1: bracket each delegated node's invoke with region markers for the Pi cost meter */
} EdgeliftNeonOptions;

/* num_threads 1, kernels auto, log_level info, profile 0 */
EdgeliftNeonOptions EdgeliftNeonOptionsDefault(void);

/* NULL options = defaults. Returns NULL (with a line on stderr naming the reason) for options out of range
 * or a forced kernel variant this CPU cannot run. */
struct TfLiteDelegate* EdgeliftNeonDelegateCreate(const EdgeliftNeonOptions* options);

/* NULL is ignored. */
void EdgeliftNeonDelegateDelete(struct TfLiteDelegate* delegate);

#ifdef __cplusplus
}
#endif

#endif
