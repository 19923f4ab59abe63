/* The delegate object shared by the partitioner (delegate.c), the kernel role (partition.c) and the
 * external-delegate entry points (plugin.c). The public interface is ../include/edgelift_neon.h. */
#ifndef EDGELIFT_DELEGATE_H
#define EDGELIFT_DELEGATE_H

#include <stddef.h>

#include "../include/edgelift_neon.h"
#include "abi/tflite_abi.h"
#include "ops/op.h"
#include "threadpool.h"

typedef struct el_delegate {
  TfLiteDelegate base; /* first: the runtime sees a TfLiteDelegate* */
  EdgeliftNeonOptions options;
  el_kernels kernels; /* what each node's kernel choice sees (ops/kernel_choice.h) */
  el_pool* pool;      /* num_threads > 1 */
  /* per interpreter (a delegate may serve several): inferred shapes and folded int32 values (shape_infer.h),
   * kept from partition selection through every prepare */
  struct el_shadow** shadows;
  size_t n_shadows;
} el_delegate;

/* Creates the delegate, or returns NULL with a message (naming the value and what is allowed) in msg. */
el_delegate* el_delegate_create(const EdgeliftNeonOptions* options, char* msg, size_t cap);
void el_delegate_delete(el_delegate* d);

/* "edgelift-neon: ..." on stderr when the delegate's log level (d == NULL: always) admits `level`. */
void el_log(const el_delegate* d, int level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

/* Partition selection: a fresh shadow of this interpreter's tensors, listed (replacing its earlier one), and
 * the listed shadows no partition holds any more (their interpreters are gone) released. NULL: out of memory. */
struct el_shadow* el_delegate_fresh_shadow(el_delegate* d, TfLiteContext* context);
/* The listed shadow of this interpreter, or NULL (a partition retains it at init). */
struct el_shadow* el_delegate_shadow_of(const el_delegate* d, const TfLiteContext* context);

/* The registration of the kernel that runs one partition (partition.c). */
TfLiteRegistration el_partition_registration(void);

/* "auto", "scalar", "neon", "dot" */
const char* el_kernels_name(EdgeliftNeonKernels k);

#endif
