/* Static shape inference with int32 constant folding (see shape_infer.h). */
#include "shape_infer.h"

#include <stdlib.h>
#include <string.h>

#include "ops/util.h"

/* the largest int32 tensor folded: shape vectors, never data */
#define EL_FOLD_MAX 64

typedef struct el_shadow_impl {
  el_shadow pub;           /* first: el_shadow* and el_shadow_impl* are one pointer */
  TfLiteTensor* runtime;   /* per tensor: the runtime's record as of the last sync */
} el_shadow_impl;

static el_shadow_impl* impl(el_shadow* s) { return (el_shadow_impl*)s; }

/* tensor t's shadow record: the runtime's, with the inferred dims and folded values over it */
static void apply(el_shadow* s, size_t t) {
  s->tensors[t] = impl(s)->runtime[t];
  if (s->dims[t] != NULL) s->tensors[t].dims = s->dims[t];
  if (s->values[t] != NULL) {
    s->tensors[t].data.raw = (char*)s->values[t];
    s->tensors[t].allocation_type = kTfLiteMmapRo; /* reads as a constant to the checks */
  }
}

static void shadow_free(el_shadow* s);

el_shadow* el_shadow_create(TfLiteContext* context) {
  el_shadow_impl* si = (el_shadow_impl*)calloc(1, sizeof *si);
  if (si == NULL) return NULL;
  el_shadow* s = &si->pub;
  s->refs = 1;
  s->n = context->tensors_size;
  const size_t n = s->n + 1;
  s->tensors = (TfLiteTensor*)calloc(n, sizeof(TfLiteTensor));
  si->runtime = (TfLiteTensor*)calloc(n, sizeof(TfLiteTensor));
  s->dims = (TfLiteIntArray**)calloc(n, sizeof(TfLiteIntArray*));
  s->values = (int32_t**)calloc(n, sizeof(int32_t*));
  s->unknown = (unsigned char*)calloc(n, 1);
  s->own = (int8_t**)calloc(n, sizeof(int8_t*));
  if (!s->tensors || !si->runtime || !s->dims || !s->values || !s->unknown || !s->own) {
    shadow_free(s);
    return NULL;
  }
  el_shadow_sync(s, context);
  return s;
}

void el_shadow_retain(el_shadow* s) { s->refs++; }

void el_shadow_release(el_shadow* s) {
  if (s != NULL && --s->refs <= 0) shadow_free(s);
}

static void shadow_free(el_shadow* s) {
  if (s == NULL) return;
  for (size_t t = 0; t < s->n && s->dims && s->values; t++) {
    free(s->dims[t]);
    free(s->values[t]);
  }
  free(s->tensors);
  free(impl(s)->runtime);
  free(s->dims);
  free(s->values);
  free(s->unknown);
  free(s->own);
  free(s);
}

void el_shadow_sync(el_shadow* s, TfLiteContext* context) {
  s->runtime_context = context;
  s->context = *context;
  s->context.tensors = s->tensors;
  for (size_t t = 0; t < s->n; t++) {
    impl(s)->runtime[t] = context->tensors[t];
    if (s->values[t] == NULL) {
      free(s->dims[t]);
      s->dims[t] = NULL;
    }
    s->unknown[t] = 0;
    apply(s, t);
  }
}

el_shape el_shadow_shape(const el_shadow* s, int t) { return el_tensor_shape(&s->tensors[t]); }

int el_shadow_is_folded(const el_shadow* s, int t) { return t >= 0 && (size_t)t < s->n && s->values[t] != NULL; }

int el_shadow_set_shape(el_shadow* s, int t, const el_shape* shape) {
  TfLiteIntArray* d = (TfLiteIntArray*)realloc(s->dims[t], sizeof(TfLiteIntArray) + sizeof(int) * (size_t)(shape->rank + 1));
  if (d == NULL) return 0;
  d->size = shape->rank;
  for (int i = 0; i < shape->rank; i++) d->data[i] = shape->d[i];
  s->dims[t] = d;
  apply(s, (size_t)t);
  return 1;
}

int el_shadow_infer(el_shadow* s, const el_node* node, const el_shape* ins, el_shape* outs, const char** why) {
  memset(outs, 0, sizeof(el_shape) * EL_MAX_OUTPUTS);
  if (!node->def->output_shape(&s->context, node, ins, outs, why)) return 0;
  for (int k = 0; k < node->n_outputs; k++) {
    const int t = node->outputs[k];
    free(s->values[t]);
    s->values[t] = NULL;
    s->unknown[t] = 0;
    if (!el_shadow_set_shape(s, t, &outs[k])) EL_NO("out of memory");
  }
  return 1;
}

/* the int32 shape arithmetic folded: ops whose output values follow from constant inputs (SHAPE: from its
 * input's shape alone) and whose invoke needs no scratch */
static int folds(int code) {
  switch (code) {
    case kTfLiteBuiltinShape:
    case kTfLiteBuiltinStridedSlice:
    case kTfLiteBuiltinSlice:
    case kTfLiteBuiltinGather:
    case kTfLiteBuiltinReduceProd:
    case kTfLiteBuiltinPack:
    case kTfLiteBuiltinConcatenation:
    case kTfLiteBuiltinReshape:
    case kTfLiteBuiltinFill:
    case kTfLiteBuiltinExpandDims:
    case kTfLiteBuiltinSqueeze:
      return 1;
    default:
      return 0;
  }
}

int el_shadow_foldable(const el_shadow* s, const el_node* node) {
  if (!folds(node->code)) return 0;
  for (int k = 0; k < node->n_outputs; k++) {
    const TfLiteTensor* y = &s->tensors[node->outputs[k]];
    const el_shape ys = el_tensor_shape(y);
    if (y->type != kTfLiteInt32 || el_shape_elements(&ys) > EL_FOLD_MAX) return 0;
  }
  for (int k = node->code == kTfLiteBuiltinShape ? 1 : 0; k < node->n_inputs; k++)
    if (node->inputs[k] >= 0 && !el_is_const(&s->tensors[node->inputs[k]])) return 0;
  return 1;
}

int el_shadow_fold(el_shadow* s, const el_node* node) {
  if (!el_shadow_foldable(s, node)) return 0;
  for (int k = 0; k < node->n_outputs; k++) {
    const int t = node->outputs[k];
    const el_shape ys = el_tensor_shape(&s->tensors[t]);
    free(s->values[t]);
    s->values[t] = (int32_t*)calloc(el_shape_elements(&ys) + 1, sizeof(int32_t));
    if (s->values[t] == NULL) {
      for (int j = 0; j <= k; j++) {
        free(s->values[node->outputs[j]]);
        s->values[node->outputs[j]] = NULL;
        apply(s, (size_t)node->outputs[j]);
      }
      return 0;
    }
    apply(s, (size_t)t);
  }
  const el_io io = {&s->context, s->own, NULL};
  node->def->invoke(node, &io, NULL);
  return 1;
}
