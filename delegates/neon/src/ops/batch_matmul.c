/* BATCH_MATMUL of int8 (per tensor, rank 2..5, adj_x / adj_y, broadcast batch dimensions, constant or variable
 * RHS), as LiteRT's builtin kernel computes it: one int32 matrix product per batch matrix with both zero points,
 * rescaled with the multiplier of the float product of the input scales (GetQuantizedConvolutionMultipler) and
 * gemmlowp's double rounding, clamped to int8 (no fused activation). The qs8_bmm kernels compute a matrix
 * (kernels/qs8_bmm.h); the RHS is packed at prepare when constant, per invoke otherwise; an adj_x LHS is
 * transposed into scratch per batch matrix, as the builtin transposes it. */
#include <stdlib.h>
#include <string.h>

#include "../kernels/qs8_bmm.h"
#include "../requantize.h"
#include "util.h"

#define BMM_RANK 5 /* the builtin's largest; shapes are extended to it, batch dimensions 0..2 */

typedef struct bmm_state {
  int adj_x, adj_y;
  size_t m, n, k;
  int batch[BMM_RANK - 2];        /* the output's batch dimensions */
  size_t lhs_step[BMM_RANK - 2];  /* matrices to step per batch index (0 where the operand broadcasts) */
  size_t rhs_step[BMM_RANK - 2];
  size_t rhs_matrices, packed_size;
  qs8_bmm_params params;
  const qs8_bmm_ukernel* uk;
  int rhs_const;
  void* packed; /* constant RHS: every batch matrix packed once */
} bmm_state;

/* int8, per-tensor affine quantization, static shape of rank 2..5 */
static int bmm_tensor_ok(const TfLiteTensor* t) {
  if (t == NULL || t->type != kTfLiteInt8 || t->dims == NULL || t->dims->size < 2 || t->dims->size > BMM_RANK)
    return 0;
  if (t->allocation_type == kTfLiteDynamic) return 0;
  const TfLiteAffineQuantization* q = el_affine(t);
  return q != NULL && q->scale->size == 1 && q->scale->data[0] > 0.0f && q->zero_point->data[0] >= -128 &&
         q->zero_point->data[0] <= 127;
}

/* shape padded in front with 1s to rank 5 */
static el_shape bmm_extend(const el_shape* s) {
  el_shape e;
  memset(&e, 0, sizeof e);
  e.rank = BMM_RANK;
  const int pad = BMM_RANK - s->rank;
  for (int i = 0; i < BMM_RANK; i++) e.d[i] = i < pad ? 1 : s->d[i - pad];
  return e;
}

/* The output shape of lhs x rhs (ranks 2..5), or 0 with *why. */
static int bmm_shape(const el_shape* lhs, const el_shape* rhs, int adj_x, int adj_y, el_shape* out,
                     const char** why) {
  if (lhs->rank < 2 || lhs->rank > BMM_RANK || rhs->rank < 2 || rhs->rank > BMM_RANK) EL_NO("rank not 2..5");
  const el_shape l = bmm_extend(lhs), r = bmm_extend(rhs);
  const int rank = lhs->rank > rhs->rank ? lhs->rank : rhs->rank;
  out->rank = rank;
  for (int i = 0; i < BMM_RANK - 2; i++) {
    if (l.d[i] != r.d[i] && l.d[i] != 1 && r.d[i] != 1) EL_NO("batch dimensions do not broadcast");
    const int d = l.d[i] == 1 ? r.d[i] : l.d[i];
    if (i >= BMM_RANK - rank) out->d[i - (BMM_RANK - rank)] = d;
  }
  const int lk = adj_x ? l.d[3] : l.d[4], rk = adj_y ? r.d[4] : r.d[3];
  if (lk != rk) EL_NO("reduction depths differ");
  if (lk < 1 || lk > QS8_BMM_MAX_K) EL_NO("reduction depth past 32768 (the int32 accumulator could overflow)");
  out->d[rank - 2] = adj_x ? l.d[4] : l.d[3];
  out->d[rank - 1] = adj_y ? r.d[3] : r.d[4];
  return 1;
}

static int bmm_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("not two inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!bmm_tensor_ok(x) || !bmm_tensor_ok(y)) EL_NO("inputs not int8 per tensor of rank 2..5");
  if (!bmm_tensor_ok(out)) EL_NO("output not int8 per tensor");
  const TfLiteBatchMatMulParams* p = (const TfLiteBatchMatMulParams*)node->builtin_data;
  if (p == NULL) EL_NO("no options");
  const el_shape xs = el_tensor_shape(x), ys = el_tensor_shape(y), os = el_tensor_shape(out);
  el_shape want;
  memset(&want, 0, sizeof want);
  if (!bmm_shape(&xs, &ys, p->adj_x, p->adj_y, &want, why)) return 0;
  if (memcmp(&want, &os, sizeof want) != 0) EL_NO("unexpected output shape");
  /* Both ranks > 2 and an RHS [.., 1, k, n]: the builtin folds the LHS's [.., Q, R, S] into [.., Q*R, S], the
   * same product only for an LHS that is not transposed; tflite-runtime 2.14 then gives other values than
   * LiteRT 2.3 (tests/emulated_pi), so no one result is the builtin's and the runtime keeps the node. */
  if (p->adj_x && xs.rank > 2 && ys.rank > 2 && ys.d[ys.rank - 3] == 1)
    EL_NO("adj_x with an RHS [.., 1, k, n] (tflite-runtime 2.14's builtin differs from LiteRT 2.3 there)");
  return 1;
}

static void bmm_init(void* state, const TfLiteNode* node) {
  bmm_state* s = (bmm_state*)state;
  const TfLiteBatchMatMulParams* p = (const TfLiteBatchMatMulParams*)node->builtin_data;
  s->adj_x = p->adj_x, s->adj_y = p->adj_y;
}

static int bmm_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                            const char** why) {
  (void)c;
  const bmm_state* s = (const bmm_state*)node->state;
  memset(o, 0, sizeof *o);
  return bmm_shape(&ins[0], &ins[1], s->adj_x, s->adj_y, o, why);
}

static void bmm_release(void* state) {
  bmm_state* s = (bmm_state*)state;
  free(s->packed);
  s->packed = NULL;
}

/* Packs every RHS batch matrix into `dst` (packed_size bytes apart). */
static void bmm_pack_all(const bmm_state* s, const int8_t* rhs, uint8_t* dst) {
  const size_t k_stride = s->adj_y ? 1 : s->n, n_stride = s->adj_y ? s->k : 1;
  for (size_t i = 0; i < s->rhs_matrices; i++)
    qs8_bmm_pack(s->n, s->k, rhs + i * s->n * s->k, k_stride, n_stride, s->params.a_zero_point,
                 s->params.b_zero_point, dst + i * s->packed_size);
}

static TfLiteStatus bmm_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                const el_kernels* kernels, size_t* scratch) {
  (void)out;
  bmm_state* s = (bmm_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* o = el_tensor(c, node->output);
  const el_shape l = bmm_extend(&ins[0]), r = bmm_extend(&ins[1]);
  s->m = (size_t)(s->adj_x ? l.d[4] : l.d[3]);
  s->k = (size_t)(s->adj_x ? l.d[3] : l.d[4]);
  s->n = (size_t)(s->adj_y ? r.d[3] : r.d[4]);
  size_t lhs_after = 1, rhs_after = 1;
  for (int i = BMM_RANK - 3; i >= 0; i--) { /* row-major matrix strides of each operand's batch dimensions */
    s->batch[i] = l.d[i] == 1 ? r.d[i] : l.d[i];
    s->lhs_step[i] = l.d[i] == 1 ? 0 : lhs_after;
    s->rhs_step[i] = r.d[i] == 1 ? 0 : rhs_after;
    lhs_after *= (size_t)l.d[i];
    rhs_after *= (size_t)r.d[i];
  }
  s->rhs_matrices = rhs_after;
  s->packed_size = qs8_bmm_packed_size(s->n, s->k);
  /* GetQuantizedConvolutionMultipler: the input scale product in float, then the quotient in double */
  const double real = (double)(x->params.scale * y->params.scale) / (double)o->params.scale;
  el_quantize_multiplier(real, &s->params.multiplier, &s->params.shift);
  s->params.a_zero_point = x->params.zero_point;
  s->params.b_zero_point = y->params.zero_point;
  s->params.out_zero_point = o->params.zero_point;
  s->uk = qs8_bmm_select(kernels->forced);
  s->rhs_const = el_is_const(y);
  size_t need = s->adj_x ? (s->m * s->k + 63) / 64 * 64 : 0; /* the transposed LHS matrix */
  if (s->rhs_const) {
    free(s->packed); /* shapes may have changed since the last prepare */
    s->packed = malloc(s->rhs_matrices * s->packed_size + 64);
    if (s->packed == NULL) return kTfLiteError;
    bmm_pack_all(s, y->data.int8, (uint8_t*)s->packed);
  } else {
    need += s->rhs_matrices * s->packed_size;
  }
  *scratch = *scratch > need ? *scratch : need;
  return kTfLiteOk;
}

static void bmm_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  const bmm_state* s = (const bmm_state*)node->state;
  const int8_t* lhs = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  int8_t* lhs_t = scratch; /* 64-byte multiple, so the packed RHS after it stays aligned like malloc's */
  const uint8_t* packed = (const uint8_t*)s->packed;
  if (!s->rhs_const) {
    uint8_t* dst = (uint8_t*)scratch + (s->adj_x ? (s->m * s->k + 63) / 64 * 64 : 0);
    bmm_pack_all(s, el_data(io, node->inputs[1]), dst);
    packed = dst;
  }
  const size_t mk = s->m * s->k, mn = s->m * s->n;
  size_t out_index = 0;
  for (int b0 = 0; b0 < s->batch[0]; b0++)
    for (int b1 = 0; b1 < s->batch[1]; b1++)
      for (int b2 = 0; b2 < s->batch[2]; b2++, out_index++) {
        const size_t li = b0 * s->lhs_step[0] + b1 * s->lhs_step[1] + b2 * s->lhs_step[2];
        const size_t ri = b0 * s->rhs_step[0] + b1 * s->rhs_step[1] + b2 * s->rhs_step[2];
        const int8_t* a = lhs + li * mk;
        if (s->adj_x) { /* [k][m] -> [m][k] */
          for (size_t kk = 0; kk < s->k; kk++)
            for (size_t i = 0; i < s->m; i++) lhs_t[i * s->k + kk] = a[kk * s->m + i];
          a = lhs_t;
        }
        s->uk->run(s->m, s->n, s->k, a, s->k, packed + ri * s->packed_size, y + out_index * mn, s->n, &s->params);
      }
}

const el_op_def el_op_batch_matmul = {kTfLiteBuiltinBatchMatmul, "BATCH_MATMUL", sizeof(bmm_state), bmm_check,
                                      bmm_init, bmm_output_shape, bmm_prepare, bmm_invoke, bmm_release};
