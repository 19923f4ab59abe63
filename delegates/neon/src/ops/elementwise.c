/* Elementwise binary ops: ADD and MUL of two int8 tensors with right-aligned broadcasting. */
#include <string.h>

#include "../requantize.h"
#include "broadcast.h"
#include "util.h"

typedef struct binary_state {
  int activation;
  el_shape in_shape, in2_shape, out_shape;
  int32_t in_zp, in2_zp, out_zp, act_min, act_max;
  int32_t m1, s1, m2, s2, mo, so, left_shift;
} binary_state;

static int binary_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteIntArray* in = node->inputs;
  if (in->size != 2) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, in->data[0]);
  const TfLiteTensor* y = el_tensor(c, in->data[1]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(y) || !el_is_q8(out)) EL_NO("not int8 with per-tensor quantization");
  const TfLiteAddParams* p = (const TfLiteAddParams*)node->builtin_data;
  if (p == NULL || !el_act_ok(p->activation)) EL_NO("unsupported fused activation");
  /* broadcasting: right-aligned, each dim equal or 1, output the broadcast shape */
  const int r = out->dims->size;
  if (x->dims->size > r || y->dims->size > r) EL_NO("unexpected output shape");
  for (int i = 0; i < r; i++) {
    const int xo = i - (r - x->dims->size), yo = i - (r - y->dims->size);
    const int xd = xo >= 0 ? x->dims->data[xo] : 1, yd = yo >= 0 ? y->dims->data[yo] : 1;
    const int od = out->dims->data[i];
    if ((xd != od && xd != 1) || (yd != od && yd != 1) || (xd != od && yd != od)) EL_NO("shapes do not broadcast");
  }
  return 1;
}

static void binary_init(void* state, const TfLiteNode* node) {
  ((binary_state*)state)->activation = ((const TfLiteAddParams*)node->builtin_data)->activation;
}

static int binary_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  (void)c;
  (void)node;
  const el_shape* x = &ins[0];
  const el_shape* y = &ins[1];
  const int r = x->rank > y->rank ? x->rank : y->rank;
  o->rank = r;
  for (int i = 0; i < r; i++) {
    const int xo = i - (r - x->rank), yo = i - (r - y->rank);
    const int xd = xo >= 0 ? x->d[xo] : 1, yd = yo >= 0 ? y->d[yo] : 1;
    if (xd != yd && xd != 1 && yd != 1) EL_NO("shapes do not broadcast");
    o->d[i] = xd == 1 ? yd : xd;
  }
  return 1;
}

static TfLiteStatus binary_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  binary_state* s = (binary_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->in_shape = ins[0];
  s->in2_shape = ins[1];
  s->out_shape = *out_shape;
  s->in_zp = x->params.zero_point;
  s->in2_zp = y->params.zero_point;
  s->out_zp = out->params.zero_point;
  el_act_range(s->activation, out, &s->act_min, &s->act_max);
  if (node->code == kTfLiteBuiltinAdd) {
    s->left_shift = 20;
    const double twice_max = 2.0 * (double)(x->params.scale > y->params.scale ? x->params.scale : y->params.scale);
    el_quantize_multiplier((double)x->params.scale / twice_max, &s->m1, &s->s1);
    el_quantize_multiplier((double)y->params.scale / twice_max, &s->m2, &s->s2);
    el_quantize_multiplier(twice_max / ((double)(1 << s->left_shift) * (double)out->params.scale), &s->mo, &s->so);
  } else {
    el_quantize_multiplier((double)x->params.scale * (double)y->params.scale / (double)out->params.scale, &s->mo,
                           &s->so);
  }
  return kTfLiteOk;
}

static void binary_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const binary_state* s = (const binary_state*)node->state;
  const int8_t* a = el_data(io, node->inputs[0]);
  const int8_t* b = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  const size_t n = el_shape_elements(&s->out_shape);
  const int same = el_shape_elements(&s->in_shape) == n && el_shape_elements(&s->in2_shape) == n;
  size_t sa[EL_MAX_DIMS], sb[EL_MAX_DIMS];
  if (!same) {
    el_bcast_strides(&s->in_shape, &s->out_shape, sa);
    el_bcast_strides(&s->in2_shape, &s->out_shape, sb);
  }
  const int R = s->out_shape.rank;
  int idx[EL_MAX_DIMS] = {0};
  size_t ia = 0, ib = 0;
  for (size_t o = 0; o < n; o++) {
    if (same) ia = ib = o;
    const int32_t va = (int32_t)a[ia] - s->in_zp, vb = (int32_t)b[ib] - s->in2_zp;
    int32_t r;
    if (node->code == kTfLiteBuiltinAdd) {
      const int32_t sa1 = el_requantize(va * (1 << s->left_shift), s->m1, s->s1);
      const int32_t sb1 = el_requantize(vb * (1 << s->left_shift), s->m2, s->s2);
      r = el_requantize(sa1 + sb1, s->mo, s->so) + s->out_zp;
    } else {
      r = el_requantize(va * vb, s->mo, s->so) + s->out_zp;
    }
    y[o] = (int8_t)el_clamp(r, s->act_min, s->act_max);
    if (!same) { /* advance the multi-index */
      for (int d = R - 1; d >= 0; d--) {
        idx[d]++;
        ia += sa[d];
        ib += sb[d];
        if (idx[d] < s->out_shape.d[d]) break;
        ia -= sa[d] * (size_t)idx[d];
        ib -= sb[d] * (size_t)idx[d];
        idx[d] = 0;
      }
    }
  }
}

const el_op_def el_op_add = {kTfLiteBuiltinAdd, "ADD", sizeof(binary_state), binary_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
const el_op_def el_op_mul = {kTfLiteBuiltinMul, "MUL", sizeof(binary_state), binary_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
