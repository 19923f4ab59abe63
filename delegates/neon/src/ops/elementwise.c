/* Elementwise binary ops: ADD and MUL of two int8 tensors with right-aligned broadcasting, exactly as
 * LiteRT's optimized int8 kernels (optimized_integer_ops::Add / Mul, NEON semantics, which the x86-64 wheel
 * gets through NEON_2_SSE) compute them, code path by code path:
 *
 *  - the broadcast plan (broadcast.h) decides between one elementwise call, fivefold loops of elementwise
 *    calls (y4 > 1) or of scalar-broadcast calls (y4 == 1), and the reference loop (generic broadcasts);
 *  - each call (its vector body and its tail, each with its own rounding) is a microkernel's
 *    (kernels/qs8_vbinary.h: NEON on aarch64, the portable variant elsewhere or with kernels=scalar); the
 *    reference loop rounds like the tails (kernels/qs8_vbinary_rules.h).
 */
#include <string.h>

#include "../kernels/qs8_vbinary_rules.h"
#include "../requantize.h"
#include "broadcast.h"
#include "fusion.h"
#include "kernel_choice.h"
#include "util.h"

typedef struct binary_state {
  int activation;
  el_shape in_shape, in2_shape, out_shape;
  qs8_vbinary_params params;   /* input 1 first */
  qs8_vbinary_params switched; /* input 2 first: the fivefold loops when the second input broadcasts */
  const qs8_vbinary_ukernel* ukernel;
  el_bcast plan;
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

/* ADD's multipliers (add.cc Prepare): each input rescaled to twice the larger input scale, 20 bits up. */
static void add_multipliers(const TfLiteTensor* x, const TfLiteTensor* y, const TfLiteTensor* out,
                            qs8_vbinary_params* p) {
  const double twice_max = 2.0 * (double)(x->params.scale > y->params.scale ? x->params.scale : y->params.scale);
  el_quantize_multiplier((double)x->params.scale / twice_max, &p->a_multiplier, &p->a_shift);
  el_quantize_multiplier((double)y->params.scale / twice_max, &p->b_multiplier, &p->b_shift);
  el_quantize_multiplier(twice_max / ((double)(1 << QS8_VADD_LEFT_SHIFT) * (double)out->params.scale),
                         &p->out_multiplier, &p->out_shift);
}

/* MUL's multiplier (mul.cc Prepare): the scales multiplied and divided in float32, then widened. */
static void mul_multiplier(const TfLiteTensor* x, const TfLiteTensor* y, const TfLiteTensor* out,
                           qs8_vbinary_params* p) {
  const float product = x->params.scale * y->params.scale;
  const float real = product / out->params.scale;
  el_quantize_multiplier((double)real, &p->out_multiplier, &p->out_shift);
}

static int add_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  if (!binary_check(c, node, version, why)) return 0;
  qs8_vbinary_params p;
  add_multipliers(el_tensor(c, node->inputs->data[0]), el_tensor(c, node->inputs->data[1]),
                  el_tensor(c, node->outputs->data[0]), &p);
  if (p.out_shift > 0) EL_NO("output multiplier >= 1 (the builtin kernel refuses it too)");
  return 1;
}

static TfLiteStatus binary_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)scratch;
  binary_state* s = (binary_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->in_shape = ins[0];
  s->in2_shape = ins[1];
  s->out_shape = *out_shape;
  qs8_vbinary_params* p = &s->params;
  memset(p, 0, sizeof(*p));
  p->a_offset = -x->params.zero_point;
  p->b_offset = -y->params.zero_point;
  p->out_zero_point = out->params.zero_point;
  el_act_range(s->activation, out, &p->act_min, &p->act_max);
  if (node->code == kTfLiteBuiltinAdd) add_multipliers(x, y, out, p);
  else mul_multiplier(x, y, out, p);
  s->switched = *p;
  s->switched.a_offset = p->b_offset, s->switched.b_offset = p->a_offset;
  s->switched.a_multiplier = p->b_multiplier, s->switched.b_multiplier = p->a_multiplier;
  s->switched.a_shift = p->b_shift, s->switched.b_shift = p->a_shift;
  s->plan = el_bcast_plan(&s->in_shape, &s->in2_shape);
  s->ukernel = el_choose_vbinary(kernels);
  return s->ukernel != NULL ? kTfLiteOk : kTfLiteError;
}

/* optimized_ops::BinaryBroadcastFiveFold: the broadcasting input first (roles switched if need be) */
static void fivefold(const binary_state* s, const int8_t* in1, const int8_t* in2, int8_t* y, qs8_vbinary_fn ew,
                     qs8_vbinaryc_fn sc) {
  const int switched = s->plan.category == EL_BCAST_SECOND_FAST;
  const qs8_vbinary_params* p = switched ? &s->switched : &s->params;
  const int8_t* a = switched ? in2 : in1;
  const int8_t* b_reset = switched ? in1 : in2;
  const size_t* yd = s->plan.y;
  if (yd[4] > 1) {
    for (size_t i0 = 0; i0 < yd[0]; i0++) {
      const int8_t* b = b_reset;
      for (size_t i1 = 0; i1 < yd[1]; i1++) {
        b = b_reset;
        for (size_t i2 = 0; i2 < yd[2]; i2++) {
          for (size_t i3 = 0; i3 < yd[3]; i3++) {
            ew(p, yd[4], a, b, y);
            b += yd[4];
            y += yd[4];
          }
          a += yd[4];
        }
      }
      b_reset = b;
    }
    return;
  }
  for (size_t i0 = 0; i0 < yd[0]; i0++) {
    const int8_t* b = b_reset;
    for (size_t i1 = 0; i1 < yd[1]; i1++) {
      b = b_reset;
      for (size_t i2 = 0; i2 < yd[2]; i2++) {
        sc(p, yd[3], *a, b, y);
        b += yd[3];
        y += yd[3];
        a += 1;
      }
    }
    b_reset = b;
  }
}

/* reference_integer_ops::BroadcastAdd6DSlow / BroadcastMul6DSlow: element by element, the tails' rounding */
static void generic(const binary_state* s, int add, const int8_t* a, const int8_t* b, int8_t* y) {
  const size_t n = el_shape_elements(&s->out_shape);
  size_t sa[EL_MAX_DIMS], sb[EL_MAX_DIMS];
  el_bcast_strides(&s->in_shape, &s->out_shape, sa);
  el_bcast_strides(&s->in2_shape, &s->out_shape, sb);
  const int R = s->out_shape.rank;
  int idx[EL_MAX_DIMS] = {0};
  size_t ia = 0, ib = 0;
  for (size_t o = 0; o < n; o++) {
    y[o] = add ? qs8_vadd_tail(a[ia], b[ib], &s->params)
               : qs8_vbinary_clamp_int32(qs8_vmul_raw(a[ia], b[ib], &s->params), &s->params);
    for (int d = R - 1; d >= 0; d--) { /* advance the multi-index */
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

/* Same-shape ADD / MUL across the pool: calls on chunks that start at multiples of 16 give exactly the one long
 * call's result (every chunk but the last is vector body; the last holds the body's end and the same tail). */
typedef struct binary_chunks {
  qs8_vbinary_fn fn;
  const qs8_vbinary_params* params;
  const int8_t *a, *b;
  int8_t* y;
  size_t n, per;
} binary_chunks;

static void binary_chunk(void* ctx, size_t task) {
  const binary_chunks* t = (const binary_chunks*)ctx;
  const size_t i0 = task * t->per;
  if (i0 >= t->n) return;
  const size_t len = t->n - i0 < t->per ? t->n - i0 : t->per;
  t->fn(t->params, len, t->a + i0, t->b + i0, t->y + i0);
}

enum { EL_BINARY_MIN_CHUNK = 4096 }; /* below this the pool's wake-up costs more than the work */

static void binary_same_shape(const binary_state* s, el_pool* pool, qs8_vbinary_fn fn, const int8_t* a,
                              const int8_t* b, int8_t* y) {
  const size_t n = el_shape_elements(&s->out_shape), threads = (size_t)el_pool_threads(pool);
  size_t per = (n + threads - 1) / threads;
  per = (per + 15) / 16 * 16;
  if (threads <= 1 || per < EL_BINARY_MIN_CHUNK) {
    fn(&s->params, n, a, b, y);
    return;
  }
  binary_chunks t = {fn, &s->params, a, b, y, n, per};
  el_parallel_for(pool, (n + per - 1) / per, binary_chunk, &t);
}

static void binary_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const binary_state* s = (const binary_state*)node->state;
  const int8_t* a = el_data(io, node->inputs[0]);
  const int8_t* b = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  const int add = node->code == kTfLiteBuiltinAdd;
  switch (s->plan.category) {
    case EL_BCAST_NONE:
      binary_same_shape(s, io->pool, add ? s->ukernel->add : s->ukernel->mul, a, b, y);
      break;
    case EL_BCAST_FIRST_FAST:
    case EL_BCAST_SECOND_FAST:
      fivefold(s, a, b, y, add ? s->ukernel->add : s->ukernel->mul, add ? s->ukernel->addc : s->ukernel->mulc);
      break;
    case EL_BCAST_GENERIC:
      generic(s, add, a, b, y);
      break;
  }
}

int el_add_fusion_params(const el_node* add, int conv_input, qs8_vbinary_params* out, const char** why) {
  const binary_state* s = (const binary_state*)add->state;
  if (add->code != kTfLiteBuiltinAdd) EL_NO("not an ADD");
  if (s->plan.category != EL_BCAST_NONE || memcmp(&s->in_shape, &s->out_shape, sizeof s->in_shape) != 0 ||
      memcmp(&s->in2_shape, &s->out_shape, sizeof s->in_shape) != 0)
    EL_NO("the ADD broadcasts");
  /* the builtin's one call rounds its last n % 16 elements as a tail, which no epilogue reproduces */
  if (el_shape_elements(&s->out_shape) % 16 != 0) EL_NO("the ADD's element count is not a multiple of 16");
  /* (an output scale 2^20 times below the inputs'; the NEON epilogue's rounding divide assumes a right shift) */
  if (s->params.out_shift >= 0) EL_NO("the ADD's output rescale does not shift right");
  *out = conv_input == 0 ? s->params : s->switched;
  return 1;
}

const el_op_def el_op_add = {kTfLiteBuiltinAdd, "ADD", sizeof(binary_state), add_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
const el_op_def el_op_mul = {kTfLiteBuiltinMul, "MUL", sizeof(binary_state), binary_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
