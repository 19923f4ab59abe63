/* Binary int8 ops that LiteRT 2.3 computes with its reference loops, one rule at every element and every
 * broadcast (so no code paths to follow, unlike ADD and MUL in elementwise.c):
 *  - SUB (reference_ops::Sub / BroadcastQuantSubSlow): each input, offset and shifted left 20, rescaled to
 *    twice the larger input scale (double rounding), subtracted, rescaled to the output; fused activation;
 *  - SQUARED_DIFFERENCE: the same with a left shift of 7, the difference squared, then rescaled;
 *  - MAXIMUM / MINIMUM: the raw int8 values compared (the converter gives inputs and output one scale).
 * A SUB or SQUARED_DIFFERENCE whose output multiplier is >= 1 (the kernel shifts by a negative amount
 * there) is left to the runtime. */
#include "../requantize.h"
#include "broadcast.h"
#include "util.h"

typedef struct binref_state {
  int activation;
  el_shape out_shape;
  size_t sa[EL_MAX_DIMS], sb[EL_MAX_DIMS]; /* per output dimension; 0 where the input broadcasts */
  int32_t za, zb, zo, lo, hi;
  int32_t ma, ea, mb, eb, mo, eo;
} binref_state;

static int broadcasts(const TfLiteTensor* x, const TfLiteTensor* y, const TfLiteTensor* out) {
  const int r = out->dims->size;
  if (x->dims->size > r || y->dims->size > r) return 0;
  for (int i = 0; i < r; i++) {
    const int xo = i - (r - x->dims->size), yo = i - (r - y->dims->size);
    const int xd = xo >= 0 ? x->dims->data[xo] : 1, yd = yo >= 0 ? y->dims->data[yo] : 1;
    const int od = out->dims->data[i];
    if ((xd != od && xd != 1) || (yd != od && yd != 1) || (xd != od && yd != od)) return 0;
  }
  return 1;
}

/* the rescale multipliers of SUB (left shift 20) and SQUARED_DIFFERENCE (7, squared) from the scales */
static void multipliers(int code, float s1, float s2, float so, binref_state* s) {
  const double twice_max = (double)(2 * (s1 > s2 ? s1 : s2));
  el_quantize_multiplier((double)s1 / twice_max, &s->ma, &s->ea);
  el_quantize_multiplier((double)s2 / twice_max, &s->mb, &s->eb);
  if (code == kTfLiteBuiltinSub)
    el_quantize_multiplier(twice_max / (double)((float)(1 << 20) * so), &s->mo, &s->eo);
  else
    el_quantize_multiplier(twice_max * twice_max / (double)((float)(1 << 14) * so), &s->mo, &s->eo);
}

static int binref_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs->data[1]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (!el_is_q8(x) || !el_is_q8(y) || !el_is_q8(out)) EL_NO("not int8 with per-tensor quantization");
  if (!broadcasts(x, y, out)) EL_NO("shapes do not broadcast");
  return 1;
}

static int rescaled_check(TfLiteContext* c, const TfLiteNode* node, int code, const char** why) {
  if (!binref_check(c, node, 0, why)) return 0;
  binref_state s;
  multipliers(code, el_tensor(c, node->inputs->data[0])->params.scale,
              el_tensor(c, node->inputs->data[1])->params.scale, el_tensor(c, node->outputs->data[0])->params.scale,
              &s);
  if (s.ea > 0 || s.eb > 0 || s.eo > 0) EL_NO("a multiplier >= 1 (the builtin kernel shifts by a negative amount)");
  return 1;
}

static int sub_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteAddParams* p = (const TfLiteAddParams*)node->builtin_data; /* TfLiteSubParams' prefix */
  if (p == NULL || !el_act_ok(p->activation)) EL_NO("unsupported fused activation");
  return rescaled_check(c, node, kTfLiteBuiltinSub, why);
}

static int sqdiff_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (el_tensor(c, node->outputs->data[0])->dims->size > 4) EL_NO("more than 4 dimensions");
  return rescaled_check(c, node, kTfLiteBuiltinSquaredDifference, why);
}

static void sub_init(void* state, const TfLiteNode* node) {
  ((binref_state*)state)->activation = ((const TfLiteAddParams*)node->builtin_data)->activation;
}

static int binref_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  (void)c;
  (void)node;
  const int r = ins[0].rank > ins[1].rank ? ins[0].rank : ins[1].rank;
  o->rank = r;
  for (int i = 0; i < r; i++) {
    const int xo = i - (r - ins[0].rank), yo = i - (r - ins[1].rank);
    const int xd = xo >= 0 ? ins[0].d[xo] : 1, yd = yo >= 0 ? ins[1].d[yo] : 1;
    if (xd != yd && xd != 1 && yd != 1) EL_NO("shapes do not broadcast");
    o->d[i] = xd == 1 ? yd : xd;
  }
  return 1;
}

static TfLiteStatus binref_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  binref_state* s = (binref_state*)node->state;
  const TfLiteTensor* x = el_tensor(c, node->inputs[0]);
  const TfLiteTensor* y = el_tensor(c, node->inputs[1]);
  const TfLiteTensor* out = el_tensor(c, node->output);
  s->out_shape = *out_shape;
  el_bcast_strides(&ins[0], out_shape, s->sa);
  el_bcast_strides(&ins[1], out_shape, s->sb);
  s->za = x->params.zero_point, s->zb = y->params.zero_point, s->zo = out->params.zero_point;
  el_act_range(node->code == kTfLiteBuiltinSub ? s->activation : kTfLiteActNone, out, &s->lo, &s->hi);
  if (node->code == kTfLiteBuiltinSub || node->code == kTfLiteBuiltinSquaredDifference)
    multipliers(node->code, x->params.scale, y->params.scale, out->params.scale, s);
  return kTfLiteOk;
}

static inline int32_t sub_one(const binref_state* s, int8_t a, int8_t b) {
  const int32_t ra = el_requantize((a - s->za) * (1 << 20), s->ma, s->ea);
  const int32_t rb = el_requantize((b - s->zb) * (1 << 20), s->mb, s->eb);
  return el_clamp(el_requantize(ra - rb, s->mo, s->eo) + s->zo, s->lo, s->hi);
}

static inline int32_t sqdiff_one(const binref_state* s, int8_t a, int8_t b) {
  const int32_t ra = el_requantize((a - s->za) * (1 << 7), s->ma, s->ea);
  const int32_t rb = el_requantize((b - s->zb) * (1 << 7), s->mb, s->eb);
  const int32_t d = ra - rb; /* |d| < 2^15: the square fits */
  return el_clamp(el_requantize(d * d, s->mo, s->eo) + s->zo, -128, 127);
}

static void binref_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const binref_state* s = (const binref_state*)node->state;
  const int8_t* a = el_data(io, node->inputs[0]);
  const int8_t* b = el_data(io, node->inputs[1]);
  int8_t* y = el_data(io, node->output);
  const int R = s->out_shape.rank;
  const size_t n = el_shape_elements(&s->out_shape);
  int idx[EL_MAX_DIMS] = {0};
  size_t ia = 0, ib = 0;
  for (size_t o = 0; o < n; o++) {
    const int8_t va = a[ia], vb = b[ib];
    switch (node->code) {
      case kTfLiteBuiltinSub: y[o] = (int8_t)sub_one(s, va, vb); break;
      case kTfLiteBuiltinSquaredDifference: y[o] = (int8_t)sqdiff_one(s, va, vb); break;
      case kTfLiteBuiltinMaximum: y[o] = va > vb ? va : vb; break;
      default: y[o] = va < vb ? va : vb; break;
    }
    for (int d = R - 1; d >= 0; d--) { /* advance the multi-index */
      idx[d]++;
      ia += s->sa[d];
      ib += s->sb[d];
      if (idx[d] < s->out_shape.d[d]) break;
      ia -= s->sa[d] * (size_t)idx[d];
      ib -= s->sb[d] * (size_t)idx[d];
      idx[d] = 0;
    }
  }
}

const el_op_def el_op_sub = {kTfLiteBuiltinSub, "SUB", sizeof(binref_state), sub_check, sub_init,
                             binref_output_shape, binref_prepare, binref_invoke, NULL};
const el_op_def el_op_squared_difference = {kTfLiteBuiltinSquaredDifference, "SQUARED_DIFFERENCE",
                                            sizeof(binref_state), sqdiff_check, NULL, binref_output_shape,
                                            binref_prepare, binref_invoke, NULL};
const el_op_def el_op_maximum = {kTfLiteBuiltinMaximum, "MAXIMUM", sizeof(binref_state), binref_check, NULL,
                                 binref_output_shape, binref_prepare, binref_invoke, NULL};
const el_op_def el_op_minimum = {kTfLiteBuiltinMinimum, "MINIMUM", sizeof(binref_state), binref_check, NULL,
                                 binref_output_shape, binref_prepare, binref_invoke, NULL};
