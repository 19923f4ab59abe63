/* Data movement: PAD, CONCATENATION, RESHAPE, SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND (how TFLite expresses
 * dilated convolutions). No arithmetic: input and output quantization must be equal. CONCATENATION and
 * RESHAPE also take int32 shape vectors (what dynamic-batch graphs compute their reshapes with). */
#include <string.h>

#include "util.h"

/* `n_inputs` inputs, the first and the output int8 with one quantization: a copy, value for value */
static int q8_copy_io(TfLiteContext* c, const TfLiteNode* node, int n_inputs, const char** why) {
  const TfLiteIntArray* in = node->inputs;
  const TfLiteTensor* x = in->size > 0 ? el_tensor(c, in->data[0]) : NULL;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (in->size != n_inputs || !el_is_q8(x) || !el_is_q8(out) || !el_same_quant(x, out))
    EL_NO("not int8 with equal quantization");
  return 1;
}

/* constant int32 [rows, 2]: PAD's paddings, SPACE_TO_BATCH_ND's paddings, BATCH_TO_SPACE_ND's crops */
static int const_i32_pairs(const TfLiteTensor* t, int rows) {
  return t != NULL && t->type == kTfLiteInt32 && el_is_const(t) && t->dims->size == 2 && t->dims->data[0] == rows &&
         t->dims->data[1] == 2;
}

/* ---- PAD ---- */

typedef struct pad_state {
  el_shape in_shape, out_shape;
  int32_t out_zp;
  int pads[EL_MAX_DIMS][2];
} pad_state;

static int pad_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (!q8_copy_io(c, node, 2, why)) return 0;
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  const TfLiteTensor* pads = el_tensor(c, node->inputs->data[1]);
  if (!const_i32_pairs(pads, x->dims->size)) EL_NO("paddings not constant int32 [rank, 2]");
  for (int i = 0; i < x->dims->size; i++) {
    const int a = pads->data.i32[2 * i], b = pads->data.i32[2 * i + 1];
    if (a < 0 || b < 0 || out->dims->data[i] != x->dims->data[i] + a + b) EL_NO("unexpected paddings");
  }
  if (out->dims->size != x->dims->size) EL_NO("unexpected output rank");
  return 1;
}

static int pad_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                            const char** why) {
  const TfLiteTensor* pads = el_tensor(c, node->inputs[1]);
  const el_shape* x = &ins[0];
  if (pads->dims->data[0] != x->rank) EL_NO("paddings do not match the input rank");
  *o = *x;
  for (int i = 0; i < x->rank; i++) o->d[i] += pads->data.i32[2 * i] + pads->data.i32[2 * i + 1];
  return 1;
}

static TfLiteStatus pad_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  pad_state* s = (pad_state*)node->state;
  const TfLiteTensor* pads = el_tensor(c, node->inputs[1]);
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  s->out_zp = el_tensor(c, node->output)->params.zero_point;
  for (int i = 0; i < s->in_shape.rank; i++) {
    s->pads[i][0] = pads->data.i32[2 * i];
    s->pads[i][1] = pads->data.i32[2 * i + 1];
  }
  return kTfLiteOk;
}

static void pad_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const pad_state* s = (const pad_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const el_shape* is = &s->in_shape;
  const el_shape* os = &s->out_shape;
  memset(y, (int8_t)s->out_zp, el_shape_elements(os));
  const int R = is->rank;
  if (el_shape_elements(is) == 0) return;
  /* copy rows of the innermost dimension */
  const int inner = R > 0 ? is->d[R - 1] : 1;
  size_t ostr[EL_MAX_DIMS];
  size_t st = 1;
  for (int i = R - 1; i >= 0; i--) {
    ostr[i] = st;
    st *= (size_t)os->d[i];
  }
  const size_t rows = el_shape_elements(is) / (size_t)inner;
  int idx[EL_MAX_DIMS] = {0};
  for (size_t r = 0; r < rows; r++) {
    size_t off = R > 0 ? (size_t)s->pads[R - 1][0] : 0;
    for (int d = 0; d < R - 1; d++) off += (size_t)(idx[d] + s->pads[d][0]) * ostr[d];
    memcpy(y + off, x + r * (size_t)inner, (size_t)inner);
    for (int d = R - 2; d >= 0; d--) {
      if (++idx[d] < is->d[d]) break;
      idx[d] = 0;
    }
  }
}

const el_op_def el_op_pad = {kTfLiteBuiltinPad, "PAD", sizeof(pad_state), pad_check, NULL, pad_output_shape,
                             pad_prepare, pad_invoke, NULL};

/* ---- CONCATENATION ---- */

typedef struct concat_state {
  int axis; /* as given (may be negative) */
  int axis_now, outer;
  size_t elem; /* bytes per element: 1 (int8) or 4 (int32) */
  el_shape out_shape;
  el_shape in_shapes[EL_MAX_INPUTS];
} concat_state;

static int concat_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteIntArray* in = node->inputs;
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  const TfLiteConcatenationParams* p = (const TfLiteConcatenationParams*)node->builtin_data;
  if (p == NULL || p->activation != kTfLiteActNone) EL_NO("fused activation");
  if (in->size < 1 || in->size > EL_MAX_INPUTS) EL_NO("unexpected inputs");
  /* int32: shape vectors (a plain copy in the builtin); int8: one quantization, a plain copy too */
  const int i32 = out->type == kTfLiteInt32 && out->dims->size <= 4 && out->allocation_type != kTfLiteDynamic;
  if (!i32 && !el_is_q8(out)) EL_NO("not int8 (or int32)");
  const int r = out->dims->size;
  const int axis = p->axis < 0 ? p->axis + r : p->axis;
  if (axis < 0 || axis >= r) EL_NO("axis out of range");
  int total = 0;
  for (int i = 0; i < in->size; i++) {
    const TfLiteTensor* t = el_tensor(c, in->data[i]);
    if (t == NULL || t->dims == NULL) EL_NO("unexpected inputs");
    if (i32 && (t->type != kTfLiteInt32 || t->allocation_type == kTfLiteDynamic)) EL_NO("inputs not int32");
    if (!i32 && (!el_is_q8(t) || !el_same_quant(t, out))) EL_NO("inputs not int8 with the output's quantization");
    if (t->dims->size != r) EL_NO("ranks differ");
    for (int d = 0; d < r; d++)
      if (d != axis && t->dims->data[d] != out->dims->data[d]) EL_NO("shapes do not match");
    total += t->dims->data[axis];
  }
  if (total != out->dims->data[axis]) EL_NO("shapes do not match");
  return 1;
}

static void concat_init(void* state, const TfLiteNode* node) {
  ((concat_state*)state)->axis = ((const TfLiteConcatenationParams*)node->builtin_data)->axis;
}

static int concat_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  (void)c;
  const concat_state* s = (const concat_state*)node->state;
  const el_shape* x = &ins[0];
  *o = *x;
  const int axis = s->axis < 0 ? s->axis + x->rank : s->axis;
  if (axis < 0 || axis >= x->rank) EL_NO("axis out of range");
  o->d[axis] = 0;
  for (int i = 0; i < node->n_inputs; i++) {
    if (ins[i].rank != x->rank) EL_NO("ranks differ");
    for (int d = 0; d < x->rank; d++)
      if (d != axis && ins[i].d[d] != x->d[d]) EL_NO("shapes do not match");
    o->d[axis] += ins[i].d[axis];
  }
  return 1;
}

static TfLiteStatus concat_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                   const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  concat_state* s = (concat_state*)node->state;
  s->out_shape = *out_shape;
  for (int i = 0; i < node->n_inputs; i++) s->in_shapes[i] = ins[i];
  const int r = out_shape->rank;
  s->axis_now = s->axis < 0 ? s->axis + r : s->axis;
  s->outer = 1;
  for (int d = 0; d < s->axis_now; d++) s->outer *= out_shape->d[d];
  s->elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  return kTfLiteOk;
}

static void concat_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const concat_state* s = (const concat_state*)node->state;
  int8_t* y = el_data(io, node->output);
  const int r = s->out_shape.rank;
  size_t inner = s->elem;
  for (int d = s->axis_now + 1; d < r; d++) inner *= (size_t)s->out_shape.d[d];
  const size_t out_row = (size_t)s->out_shape.d[s->axis_now] * inner;
  size_t col = 0;
  for (int i = 0; i < node->n_inputs; i++) {
    const int8_t* x = el_data(io, node->inputs[i]);
    const size_t row = (size_t)s->in_shapes[i].d[s->axis_now] * inner;
    for (int o = 0; o < s->outer; o++) memcpy(y + (size_t)o * out_row + col, x + (size_t)o * row, row);
    col += row;
  }
}

const el_op_def el_op_concatenation = {kTfLiteBuiltinConcatenation, "CONCATENATION", sizeof(concat_state),
                                       concat_check, concat_init, concat_output_shape, concat_prepare, concat_invoke,
                                       NULL};

/* ---- RESHAPE (int8 of equal quantization, or int32 shape vectors) ---- */

typedef struct reshape_state {
  int has_params, n_params; /* the options' new_shape (used without a shape tensor) */
  int params[8];
  size_t bytes;
} reshape_state;

static void reshape_params(reshape_state* s, const TfLiteNode* node) {
  const TfLiteReshapeParams* p = (const TfLiteReshapeParams*)node->builtin_data;
  s->has_params = p != NULL && p->num_dimensions >= 0 && p->num_dimensions <= 8;
  if (!s->has_params) return;
  s->n_params = p->num_dimensions == 1 && p->shape[0] == 0 ? 0 : p->num_dimensions; /* legacy [0]: a scalar */
  for (int i = 0; i < s->n_params; i++) s->params[i] = p->shape[i];
}

static void reshape_init(void* state, const TfLiteNode* node) { reshape_params((reshape_state*)state, node); }

/* TFLite's rule: the target is the shape tensor when it is a 1-D int32 tensor, else the options; one -1 takes
 * the elements left. The shape tensor must be known now: constant, or folded by shape inference. */
static int reshape_target(TfLiteContext* c, int shape_idx, const reshape_state* s, size_t n, el_shape* o,
                          const char** why) {
  const TfLiteTensor* st = el_tensor(c, shape_idx);
  memset(o, 0, sizeof *o);
  if (st != NULL && st->type == kTfLiteInt32 && st->dims != NULL && st->dims->size == 1) {
    if (!el_is_const(st)) EL_NO("new shape computed at run time (not folded)");
    if (st->dims->data[0] > EL_MAX_DIMS) EL_NO("more than 6 dimensions");
    o->rank = st->dims->data[0];
    for (int i = 0; i < o->rank; i++) o->d[i] = st->data.i32[i];
  } else {
    if (!s->has_params || s->n_params > EL_MAX_DIMS) EL_NO("no new shape");
    o->rank = s->n_params;
    for (int i = 0; i < o->rank; i++) o->d[i] = s->params[i];
  }
  int stretch = -1;
  size_t m = 1;
  for (int i = 0; i < o->rank; i++) {
    if (o->d[i] == -1) {
      if (stretch >= 0) EL_NO("more than one -1 in the new shape");
      stretch = i;
    } else if (o->d[i] < 0) {
      EL_NO("negative dimension in the new shape");
    } else {
      m *= (size_t)o->d[i];
    }
  }
  if (stretch >= 0) {
    if (m == 0) EL_NO("-1 next to a zero dimension");
    o->d[stretch] = (int)(n / m);
    m *= (size_t)o->d[stretch];
  }
  if (m != n) EL_NO("sizes differ");
  return 1;
}

static int reshape_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size < 1 || node->inputs->size > 2) EL_NO("unexpected inputs");
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  const TfLiteTensor* out = el_tensor(c, node->outputs->data[0]);
  if (x == NULL || out == NULL || x->dims == NULL) EL_NO("unexpected inputs");
  const int i32 = x->type == kTfLiteInt32 && out->type == kTfLiteInt32 && x->dims->size <= 4 &&
                  out->dims->size <= 4 && x->allocation_type != kTfLiteDynamic;
  if (!i32 && (!el_is_q8(x) || !el_is_q8(out) || !el_same_quant(x, out)))
    EL_NO("not int8 with equal quantization (or int32)");
  reshape_state s;
  reshape_params(&s, node);
  const el_shape xs = el_tensor_shape(x), os = el_tensor_shape(out);
  el_shape target;
  const int shape_idx = node->inputs->size == 2 ? node->inputs->data[1] : -1;
  if (!reshape_target(c, shape_idx, &s, el_shape_elements(&xs), &target, why)) return 0;
  if (memcmp(&target, &os, sizeof os) != 0) EL_NO("output shape differs from the new shape");
  return 1;
}

static int reshape_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                                const char** why) {
  const int shape_idx = node->n_inputs == 2 ? node->inputs[1] : -1;
  return reshape_target(c, shape_idx, (const reshape_state*)node->state, el_shape_elements(&ins[0]), o, why);
}

static TfLiteStatus reshape_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out_shape,
                                    const el_kernels* kernels, size_t* scratch) {
  (void)out_shape;
  (void)kernels;
  (void)scratch;
  const size_t elem = c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
  ((reshape_state*)node->state)->bytes = el_shape_elements(&ins[0]) * elem;
  return kTfLiteOk;
}

static void reshape_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  if (x != y) memmove(y, x, ((const reshape_state*)node->state)->bytes);
}

const el_op_def el_op_reshape = {kTfLiteBuiltinReshape, "RESHAPE", sizeof(reshape_state), reshape_check, reshape_init,
                                 reshape_output_shape, reshape_prepare, reshape_invoke, NULL};

/* ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND (TFLite's reference index arithmetic) ---- */

typedef struct space_batch_state {
  el_shape in_shape, out_shape;
  int32_t out_zp; /* SPACE_TO_BATCH_ND's padding value */
  int block_h, block_w, pad_top, pad_left;
} space_batch_state;

static int space_batch_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (!q8_copy_io(c, node, 3, why)) return 0;
  const TfLiteIntArray* in = node->inputs;
  if (el_tensor(c, in->data[0])->dims->size != 4) EL_NO("not 4-D");
  const TfLiteTensor* block = el_tensor(c, in->data[1]);
  const TfLiteTensor* pads = el_tensor(c, in->data[2]);
  if (block == NULL || block->type != kTfLiteInt32 || !el_is_const(block) || block->dims->size != 1 ||
      block->dims->data[0] != 2 || block->data.i32[0] < 1 || block->data.i32[1] < 1)
    EL_NO("block shape not a constant pair");
  if (!const_i32_pairs(pads, 2)) EL_NO("paddings/crops not a constant 2x2");
  for (int i = 0; i < 4; i++)
    if (pads->data.i32[i] < 0) EL_NO("negative paddings/crops");
  return 1;
}

static int space_batch_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                                    const char** why) {
  const el_shape* x = &ins[0];
  if (x->rank != 4) EL_NO("input is not 4-D");
  const int32_t* b = el_tensor(c, node->inputs[1])->data.i32;
  const int32_t* pd = el_tensor(c, node->inputs[2])->data.i32;
  o->rank = 4;
  o->d[3] = x->d[3];
  if (node->code == kTfLiteBuiltinSpaceToBatchNd) {
    const int h = x->d[1] + pd[0] + pd[1], w = x->d[2] + pd[2] + pd[3];
    if (h % b[0] != 0 || w % b[1] != 0) EL_NO("padded size not a multiple of the block");
    o->d[0] = x->d[0] * b[0] * b[1], o->d[1] = h / b[0], o->d[2] = w / b[1];
  } else {
    if (x->d[0] % (b[0] * b[1]) != 0) EL_NO("batch not a multiple of the block");
    o->d[0] = x->d[0] / (b[0] * b[1]);
    o->d[1] = x->d[1] * b[0] - pd[0] - pd[1], o->d[2] = x->d[2] * b[1] - pd[2] - pd[3];
    if (o->d[1] < 0 || o->d[2] < 0) EL_NO("crops larger than the output");
  }
  return 1;
}

static TfLiteStatus space_batch_prepare(TfLiteContext* c, el_node* node, const el_shape* ins,
                                        const el_shape* out_shape, const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  space_batch_state* s = (space_batch_state*)node->state;
  const int32_t* b = el_tensor(c, node->inputs[1])->data.i32;
  const int32_t* pd = el_tensor(c, node->inputs[2])->data.i32;
  s->in_shape = ins[0];
  s->out_shape = *out_shape;
  s->out_zp = el_tensor(c, node->output)->params.zero_point;
  s->block_h = b[0], s->block_w = b[1], s->pad_top = pd[0], s->pad_left = pd[2];
  return kTfLiteOk;
}

static void space_to_batch_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const space_batch_state* s = (const space_batch_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const el_shape* is = &s->in_shape;
  const el_shape* os = &s->out_shape;
  const size_t C = (size_t)is->d[3];
  const int in_b = is->d[0];
  for (int ob = 0; ob < os->d[0]; ob++) {
    const int b = ob % in_b, shift_w = (ob / in_b) % s->block_w, shift_h = (ob / in_b) / s->block_w;
    for (int oy = 0; oy < os->d[1]; oy++) {
      for (int ox = 0; ox < os->d[2]; ox++) {
        int8_t* dst = y + (((size_t)ob * os->d[1] + oy) * os->d[2] + ox) * C;
        const int iy = oy * s->block_h + shift_h - s->pad_top, ix = ox * s->block_w + shift_w - s->pad_left;
        if (iy < 0 || iy >= is->d[1] || ix < 0 || ix >= is->d[2]) memset(dst, (int8_t)s->out_zp, C);
        else memcpy(dst, x + (((size_t)b * is->d[1] + iy) * is->d[2] + ix) * C, C);
      }
    }
  }
}

static void batch_to_space_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const space_batch_state* s = (const space_batch_state*)node->state;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  const el_shape* is = &s->in_shape;
  const el_shape* os = &s->out_shape;
  const size_t C = (size_t)is->d[3];
  const int out_b = os->d[0];
  for (int ib = 0; ib < is->d[0]; ib++) {
    const int b = ib % out_b, off = ib / out_b, off_h = off / s->block_w, off_w = off % s->block_w;
    for (int iy = 0; iy < is->d[1]; iy++) {
      const int oy = iy * s->block_h + off_h - s->pad_top;
      if (oy < 0 || oy >= os->d[1]) continue;
      for (int ix = 0; ix < is->d[2]; ix++) {
        const int ox = ix * s->block_w + off_w - s->pad_left;
        if (ox < 0 || ox >= os->d[2]) continue;
        memcpy(y + (((size_t)b * os->d[1] + oy) * os->d[2] + ox) * C,
               x + (((size_t)ib * is->d[1] + iy) * is->d[2] + ix) * C, C);
      }
    }
  }
}

const el_op_def el_op_space_to_batch_nd = {kTfLiteBuiltinSpaceToBatchNd, "SPACE_TO_BATCH_ND",
                                           sizeof(space_batch_state), space_batch_check, NULL,
                                           space_batch_output_shape, space_batch_prepare, space_to_batch_invoke, NULL};
const el_op_def el_op_batch_to_space_nd = {kTfLiteBuiltinBatchToSpaceNd, "BATCH_TO_SPACE_ND",
                                           sizeof(space_batch_state), space_batch_check, NULL,
                                           space_batch_output_shape, space_batch_prepare, batch_to_space_invoke, NULL};
