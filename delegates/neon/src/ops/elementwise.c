/* Elementwise binary ops: ADD and MUL of two int8 tensors with right-aligned broadcasting, exactly as
 * LiteRT's optimized int8 kernels (optimized_integer_ops::Add / Mul, NEON semantics, which the x86-64 wheel
 * gets through NEON_2_SSE) compute them, code path by code path:
 *
 *  - the broadcast plan (broadcast.h) decides between one elementwise call, fivefold loops of elementwise
 *    calls (y4 > 1) or of scalar-broadcast calls (y4 == 1), and the reference loop (generic broadcasts);
 *  - ADD, elementwise call: the first 16 * floor(n / 16) elements take the vector body, which folds each
 *    input's rescale shift into its left shift before the high multiply (one rounding); the rest take the
 *    scalar tail (high multiply, then a rounding divide: two roundings);
 *  - ADD, scalar-broadcast call: a vector body of 8 whose rescale is the high multiply then a truncating
 *    shift; then the two-rounding tail;
 *  - MUL: the same rounding everywhere, but the vector bodies (16 wide, both call kinds) saturate to int16
 *    before adding the output zero point in int16;
 *  - ADD's vector bodies narrow to int16 by truncation, add the zero point in int16, then saturate to int8;
 *    the tails and the reference loop clamp in int32. (Only values far outside the int8 range differ.)
 */
#include <string.h>

#include "../requantize.h"
#include "broadcast.h"
#include "util.h"

/* one input's part of TFLite's ArithmeticParams (the kernels swap them when the second input broadcasts) */
typedef struct side {
  int32_t offset; /* -zero point */
  int32_t multiplier, shift; /* ADD: the input's rescale (shift <= 0) */
} side;

typedef struct binary_state {
  int activation;
  el_shape in_shape, in2_shape, out_shape;
  side in1, in2;
  int32_t out_zp, act_min, act_max;
  int32_t mo, so; /* output multiplier */
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
enum { ADD_LEFT_SHIFT = 20 };

static void add_multipliers(const TfLiteTensor* x, const TfLiteTensor* y, const TfLiteTensor* out, binary_state* s) {
  const double twice_max = 2.0 * (double)(x->params.scale > y->params.scale ? x->params.scale : y->params.scale);
  el_quantize_multiplier((double)x->params.scale / twice_max, &s->in1.multiplier, &s->in1.shift);
  el_quantize_multiplier((double)y->params.scale / twice_max, &s->in2.multiplier, &s->in2.shift);
  el_quantize_multiplier(twice_max / ((double)(1 << ADD_LEFT_SHIFT) * (double)out->params.scale), &s->mo, &s->so);
}

/* MUL's multiplier (mul.cc Prepare): the scales multiplied and divided in float32, then widened. */
static void mul_multiplier(const TfLiteTensor* x, const TfLiteTensor* y, const TfLiteTensor* out, binary_state* s) {
  const float product = x->params.scale * y->params.scale;
  const float real = product / out->params.scale;
  el_quantize_multiplier((double)real, &s->mo, &s->so);
}

static int add_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  if (!binary_check(c, node, version, why)) return 0;
  binary_state s;
  add_multipliers(el_tensor(c, node->inputs->data[0]), el_tensor(c, node->inputs->data[1]),
                  el_tensor(c, node->outputs->data[0]), &s);
  if (s.so > 0) EL_NO("output multiplier >= 1 (the builtin kernel refuses it too)");
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
  s->in1.offset = -x->params.zero_point;
  s->in2.offset = -y->params.zero_point;
  s->out_zp = out->params.zero_point;
  el_act_range(s->activation, out, &s->act_min, &s->act_max);
  if (node->code == kTfLiteBuiltinAdd) add_multipliers(x, y, out, s);
  else mul_multiplier(x, y, out, s);
  s->plan = el_bcast_plan(&s->in_shape, &s->in2_shape);
  return kTfLiteOk;
}

/* ---- one element, per code path ---- */

static inline int32_t shift_left_or_truncate(int32_t x, int s) {
  return s >= 0 ? (int32_t)((uint32_t)x << s) : x >> -s; /* NEON's VSHL by a signed count */
}

/* vmovn (truncate to int16), + zero point in int16 (wrapping), vqmovn (saturate to int8), then the clamp */
static inline int8_t narrow_wrap(int32_t v, const binary_state* s) {
  const int16_t sum = (int16_t)(uint16_t)((uint32_t)(uint16_t)(uint32_t)v + (uint32_t)s->out_zp);
  return (int8_t)el_clamp(el_clamp(sum, -128, 127), s->act_min, s->act_max);
}

/* vqmovn (saturate to int16), + zero point in int16 (wrapping), vqmovn (saturate to int8), then the clamp */
static inline int8_t narrow_saturate(int32_t v, const binary_state* s) {
  const int16_t sat = (int16_t)el_clamp(v, INT16_MIN, INT16_MAX);
  const int16_t sum = (int16_t)(uint16_t)((uint32_t)(uint16_t)sat + (uint32_t)s->out_zp);
  return (int8_t)el_clamp(el_clamp(sum, -128, 127), s->act_min, s->act_max);
}

static inline int8_t clamp_int32(int32_t v, const binary_state* s) {
  return (int8_t)el_clamp(v + s->out_zp, s->act_min, s->act_max);
}

/* ADD, elementwise vector body: rescale shift folded into the left shift, one rounding */
static inline int32_t add_in_vector(int8_t x, const side* p) {
  return el_srdhm(shift_left_or_truncate(p->offset + x, ADD_LEFT_SHIFT + p->shift), p->multiplier);
}

/* ADD, scalar-broadcast vector body: the high multiply, then a truncating shift */
static inline int32_t add_in_truncating(int8_t x, const side* p) {
  return el_srdhm((p->offset + x) * (1 << ADD_LEFT_SHIFT), p->multiplier) >> -p->shift;
}

/* ADD, tails and the reference loop: the high multiply, then a rounding divide */
static inline int32_t add_in_double(int8_t x, const side* p) {
  return el_requantize((p->offset + x) * (1 << ADD_LEFT_SHIFT), p->multiplier, p->shift);
}

static inline int32_t add_out(int32_t sum, const binary_state* s) { return el_requantize(sum, s->mo, s->so); }

static inline int32_t mul_raw(int8_t x, int8_t y, const side* p1, const side* p2, const binary_state* s) {
  return el_requantize((p1->offset + x) * (p2->offset + y), s->mo, s->so);
}

/* ---- calls, as the kernels make them: (n, params as switched, input 1, input 2) ---- */

static void add_elementwise(const binary_state* s, const side* p1, const side* p2, size_t n, const int8_t* a,
                            const int8_t* b, int8_t* y) {
  const size_t vec = n / 16 * 16;
  size_t i = 0;
  for (; i < vec; i++) y[i] = narrow_wrap(add_out(add_in_vector(a[i], p1) + add_in_vector(b[i], p2), s), s);
  for (; i < n; i++) y[i] = clamp_int32(add_out(add_in_double(a[i], p1) + add_in_double(b[i], p2), s), s);
}

static void add_scalar(const binary_state* s, const side* p1, const side* p2, size_t n, int8_t a, const int8_t* b,
                       int8_t* y) {
  const size_t vec = n / 8 * 8;
  size_t i = 0;
  const int32_t av = add_in_truncating(a, p1), ad = add_in_double(a, p1);
  for (; i < vec; i++) y[i] = narrow_wrap(add_out(av + add_in_truncating(b[i], p2), s), s);
  for (; i < n; i++) y[i] = clamp_int32(add_out(ad + add_in_double(b[i], p2), s), s);
}

static void mul_elementwise(const binary_state* s, const side* p1, const side* p2, size_t n, const int8_t* a,
                            const int8_t* b, int8_t* y) {
  const size_t vec = n / 16 * 16;
  size_t i = 0;
  for (; i < vec; i++) y[i] = narrow_saturate(mul_raw(a[i], b[i], p1, p2, s), s);
  for (; i < n; i++) y[i] = clamp_int32(mul_raw(a[i], b[i], p1, p2, s), s);
}

static void mul_scalar(const binary_state* s, const side* p1, const side* p2, size_t n, int8_t a, const int8_t* b,
                       int8_t* y) {
  const size_t vec = n / 16 * 16;
  size_t i = 0;
  for (; i < vec; i++) y[i] = narrow_saturate(mul_raw(a, b[i], p1, p2, s), s);
  for (; i < n; i++) y[i] = clamp_int32(mul_raw(a, b[i], p1, p2, s), s);
}

typedef void (*elementwise_fn)(const binary_state*, const side*, const side*, size_t, const int8_t*, const int8_t*,
                               int8_t*);
typedef void (*scalar_fn)(const binary_state*, const side*, const side*, size_t, int8_t, const int8_t*, int8_t*);

/* optimized_ops::BinaryBroadcastFiveFold: the broadcasting input first (roles switched if need be) */
static void fivefold(const binary_state* s, const int8_t* in1, const int8_t* in2, int8_t* y, elementwise_fn ew,
                     scalar_fn sc) {
  const int switched = s->plan.category == EL_BCAST_SECOND_FAST;
  const side* p1 = switched ? &s->in2 : &s->in1;
  const side* p2 = switched ? &s->in1 : &s->in2;
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
            ew(s, p1, p2, yd[4], a, b, y);
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
        sc(s, p1, p2, yd[3], *a, b, y);
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
    y[o] = add ? clamp_int32(add_out(add_in_double(a[ia], &s->in1) + add_in_double(b[ib], &s->in2), s), s)
               : clamp_int32(mul_raw(a[ia], b[ib], &s->in1, &s->in2, s), s);
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

static void binary_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const binary_state* s = (const binary_state*)node->state;
  const int8_t* a = el_data(io, node->inputs[0]);
  const int8_t* b = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  const int add = node->code == kTfLiteBuiltinAdd;
  switch (s->plan.category) {
    case EL_BCAST_NONE:
      (add ? add_elementwise : mul_elementwise)(s, &s->in1, &s->in2, el_shape_elements(&s->out_shape), a, b, y);
      break;
    case EL_BCAST_FIRST_FAST:
    case EL_BCAST_SECOND_FAST:
      fivefold(s, a, b, y, add ? add_elementwise : mul_elementwise, add ? add_scalar : mul_scalar);
      break;
    case EL_BCAST_GENERIC:
      generic(s, add, a, b, y);
      break;
  }
}

const el_op_def el_op_add = {kTfLiteBuiltinAdd, "ADD", sizeof(binary_state), add_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
const el_op_def el_op_mul = {kTfLiteBuiltinMul, "MUL", sizeof(binary_state), binary_check, binary_init,
                             binary_output_shape, binary_prepare, binary_invoke, NULL};
