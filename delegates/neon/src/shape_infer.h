/* Static shape inference with int32 constant folding.
 *
 * Keras models converted with a dynamic batch compute their reshapes at run time (SHAPE -> STRIDED_SLICE /
 * GATHER -> REDUCE_PROD / PACK / CONCATENATION -> RESHAPE), and the shapes the file stores downstream of such
 * a RESHAPE are placeholders. A shadow is a copy of the runtime's tensor records whose dims are the inferred
 * ones (each op's own output_shape, walked in execution order) and whose folded int32 tensors carry their
 * values and read as constants; the ops' checks, output_shape and prepare run against its context.
 *
 * The delegate lists one shadow per interpreter, and each partition holds a reference to its own (freeing a
 * partition never touches the delegate, which Python may have freed first): partition selection fills it from the model's input shapes; each partition's
 * prepare syncs it with the runtime's current dims (a resize), re-infers its own nodes and re-folds their
 * values, which later partitions read (partitions are prepared in execution order). */
#ifndef EDGELIFT_SHAPE_INFER_H
#define EDGELIFT_SHAPE_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "ops/op.h"

typedef struct el_shadow {
  TfLiteContext context; /* the runtime's context, reading `tensors` */
  const TfLiteContext* runtime_context; /* whose tensors these are */
  int refs; /* the delegate's (while it lists it) and one per partition: the last release frees it */
  size_t n;
  TfLiteTensor* tensors;
  TfLiteIntArray** dims;  /* per tensor: owned dims of an inferred shape, or NULL (the runtime's) */
  int32_t** values;       /* per tensor: folded int32 values, or NULL */
  unsigned char* unknown; /* per tensor: its shape depends on data only the run computes */
  int8_t** own;           /* all NULL: the el_io of a folding run reads the shadow's tensors */
} el_shadow;

/* A shadow holding one reference; release drops one and frees it with the last. */
el_shadow* el_shadow_create(TfLiteContext* context);
void el_shadow_retain(el_shadow* s);
void el_shadow_release(el_shadow* s);
/* The runtime's current tensor records, keeping only the folded values (and their shapes). */
void el_shadow_sync(el_shadow* s, TfLiteContext* context);

el_shape el_shadow_shape(const el_shadow* s, int t);
int el_shadow_set_shape(el_shadow* s, int t, const el_shape* shape);
int el_shadow_is_folded(const el_shadow* s, int t);

/* The node's output shapes for input shapes `ins` by its op's output_shape on the shadow, recorded there
 * (folded values of the outputs dropped: they are recomputed). 0 with *why when the op refuses them. */
int el_shadow_infer(el_shadow* s, const el_node* node, const el_shape* ins, el_shape* outs, const char** why);
/* Is the node int32 shape arithmetic (SHAPE, STRIDED_SLICE, SLICE, GATHER, REDUCE_PROD, PACK, CONCATENATION,
 * RESHAPE, FILL, EXPAND_DIMS, SQUEEZE) with small int32 outputs and inputs constant or folded (SHAPE's
 * input: any)? */
int el_shadow_foldable(const el_shadow* s, const el_node* node);
/* A foldable node, prepared: runs it on the shadow and records its output values. 1 when folded. */
int el_shadow_fold(el_shadow* s, const el_node* node);

#endif
