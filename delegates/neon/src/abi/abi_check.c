/* Load-time check of edgelift's TFLite ABI declaration against the live runtime.
 *
 * The runtime exports no version symbol a dlopen'ed delegate can reach (the Python wheels load it with
 * RTLD_LOCAL), so the check is structural and cross-checks fields that must agree with each other when,
 * and only when, our field offsets and struct sizes match the runtime's:
 *  - every tensor's `bytes` must equal its element count times its type's size (sizeof(TfLiteTensor): with a
 *    wrong stride, the type, dims and bytes of later tensors stop agreeing), and context->GetTensor(i), where
 *    the runtime sets it, must equal &context->tensors[i];
 *  - the entry points up to PreviewDelegatePartitioning must be set and recommended_num_threads plausible;
 *  - every tensor's legacy `params` (scale, zero point) must equal its `quantization` record
 *    (the offsets of params, quantization and the fields between them); types, dims, allocation types sane;
 *  - every node's registration has a plausible builtin code and version, and its input/output indices lie
 *    inside the tensor table (TfLiteNode and TfLiteRegistration prefixes).
 */
#include <stdint.h>
#include <stdio.h>

#include "tflite_abi.h"

static int plausible_array(const TfLiteIntArray* a, int max_size) {
  return a != NULL && a->size >= 0 && a->size <= max_size;
}

static size_t type_size(TfLiteType t) {
  switch (t) {
    case kTfLiteFloat32:
    case kTfLiteInt32: return 4;
    case kTfLiteInt8:
    case kTfLiteUInt8: return 1;
    case kTfLiteInt16: return 2;
    case kTfLiteInt64: return 8;
    default: return 0;
  }
}

const char* el_abi_check(TfLiteContext* context) {
  static char msg[256];
  if (context == NULL || context->tensors == NULL || context->GetExecutionPlan == NULL ||
      context->GetNodeAndRegistration == NULL || context->ReplaceNodeSubsetsWithDelegateKernels == NULL ||
      context->ReportError == NULL) {
    return "TfLiteContext is missing required entry points";
  }
  const size_t n = context->tensors_size;
  if (n == 0 || n > (1u << 24)) return "TfLiteContext.tensors_size is implausible";
  if (context->PreviewDelegatePartitioning == NULL || context->recommended_num_threads < -1 ||
      context->recommended_num_threads > 4096) {
    return "TfLiteContext fields after ReplaceNodeSubsetsWithDelegateKernels are not where the pinned runtimes "
           "keep them";
  }
  /* GetTensor is NULL inside a delegate's Prepare in some runtimes; when set it must agree with tensors[] */
  if (context->GetTensor != NULL && (context->GetTensor(context, 0) != &context->tensors[0] ||
                                     context->GetTensor(context, (int)(n - 1)) != &context->tensors[n - 1])) {
    return "sizeof(TfLiteTensor) or the TfLiteContext layout differs from the pinned runtimes";
  }
  size_t checked_bytes = 0;
  for (size_t i = 0; i < n; i++) {
    const TfLiteTensor* t = &context->tensors[i];
    if ((unsigned)t->type >= kTfLiteTypeMaxPlausible || (unsigned)t->allocation_type > kTfLiteVariantObject) {
      snprintf(msg, sizeof msg, "tensor %zu has an implausible type (%d) or allocation type (%d) (TfLiteTensor layout)",
               i, (int)t->type, (int)t->allocation_type);
      return msg;
    }
    if (t->dims != NULL && !plausible_array(t->dims, 16)) {
      snprintf(msg, sizeof msg, "tensor %zu has implausible dims", i);
      return msg;
    }
    const size_t elem = type_size(t->type);
    if (elem != 0 && t->dims != NULL && t->bytes != 0 && t->allocation_type != kTfLiteDynamic) {
      size_t count = 1;
      for (int d = 0; d < t->dims->size; d++) count *= (size_t)(t->dims->data[d] < 0 ? 0 : t->dims->data[d]);
      if (t->bytes != count * elem) {
        snprintf(msg, sizeof msg, "tensor %zu: byte size %zu does not match its dims (TfLiteTensor layout)", i,
                 t->bytes);
        return msg;
      }
      checked_bytes++;
    }
    if ((unsigned)t->quantization.type > kTfLiteAffineQuantization) {
      snprintf(msg, sizeof msg, "tensor %zu has an implausible quantization type (%d)", i,
               (int)t->quantization.type);
      return msg;
    }
    if (t->quantization.type == kTfLiteAffineQuantization && t->quantization.params != NULL) {
      const TfLiteAffineQuantization* q = (const TfLiteAffineQuantization*)t->quantization.params;
      if (q->scale == NULL || !plausible_array((const TfLiteIntArray*)q->scale, 1 << 20)) {
        snprintf(msg, sizeof msg, "tensor %zu has an implausible quantization record", i);
        return msg;
      }
      if (q->scale->size == 1 && q->zero_point != NULL && q->zero_point->size == 1 &&
          (t->params.scale != q->scale->data[0] || t->params.zero_point != q->zero_point->data[0])) {
        snprintf(msg, sizeof msg, "tensor %zu: legacy params and quantization disagree (TfLiteTensor layout)", i);
        return msg;
      }
    }
  }
  if (checked_bytes == 0) return "no tensor could be checked against its byte size (TfLiteTensor layout)";
  TfLiteIntArray* plan = NULL;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk || !plausible_array(plan, 1 << 20)) {
    return "GetExecutionPlan failed or returned an implausible plan";
  }
  for (int i = 0; i < plan->size; i++) {
    TfLiteNode* node = NULL;
    TfLiteRegistration* reg = NULL;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &reg) != kTfLiteOk || node == NULL ||
        reg == NULL) {
      return "GetNodeAndRegistration failed";
    }
    if (reg->builtin_code < 0 || reg->builtin_code > 1024 || reg->version < 1 || reg->version > 64) {
      snprintf(msg, sizeof msg, "node %d has an implausible registration (code %d, version %d)", plan->data[i],
               (int)reg->builtin_code, reg->version);
      return msg;
    }
    if (!plausible_array(node->inputs, 1 << 12) || !plausible_array(node->outputs, 1 << 12)) {
      snprintf(msg, sizeof msg, "node %d has implausible input/output arrays (TfLiteNode layout)", plan->data[i]);
      return msg;
    }
    for (int k = 0; k < node->inputs->size; k++) {
      const int idx = node->inputs->data[k];
      if (idx < -1 || idx >= (int)n) return "a node input index lies outside the tensor table";
    }
    for (int k = 0; k < node->outputs->size; k++) {
      const int idx = node->outputs->data[k];
      if (idx < 0 || idx >= (int)n) return "a node output index lies outside the tensor table";
    }
  }
  return NULL;
}
