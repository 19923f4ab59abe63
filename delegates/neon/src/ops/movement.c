/* Data movement without arithmetic: TRANSPOSE, DEPTH_TO_SPACE, SPACE_TO_DEPTH (views of the strided copy,
 * strided.h), EXPAND_DIMS and SQUEEZE (a reshape). Exact by construction, so claimed only when input and
 * output quantization are equal (int8), or for int32 shape vectors where noted. */
#include <string.h>

#include "strided.h"
#include "util.h"

typedef struct move_state {
  int block; /* DEPTH_TO_SPACE / SPACE_TO_DEPTH */
  int n_squeeze, squeeze[8];
  el_view view;
  size_t bytes; /* EXPAND_DIMS / SQUEEZE */
} move_state;

/* int8 in and out with one quantization, or (int32_ok) int32 in and out */
static int same_data(TfLiteContext* c, const TfLiteNode* node, int int32_ok, const char** why) {
  const TfLiteTensor* x = node->inputs->size > 0 ? el_tensor(c, node->inputs->data[0]) : NULL;
  const TfLiteTensor* y = el_tensor(c, node->outputs->data[0]);
  if (x == NULL || x->dims == NULL || y->dims == NULL) EL_NO("unexpected tensors");
  if (int32_ok && x->type == kTfLiteInt32 && y->type == kTfLiteInt32) {
    if (x->allocation_type == kTfLiteDynamic || y->allocation_type == kTfLiteDynamic || x->dims->size > 4 ||
        y->dims->size > 4)
      EL_NO("dynamic or rank > 4 int32 tensor");
    return 1;
  }
  if (!el_is_q8(x) || !el_is_q8(y)) EL_NO("not int8 per-tensor of rank <= 4");
  if (!el_same_quant(x, y)) EL_NO("input and output quantization differ (a requantizing copy)");
  return 1;
}

static size_t elem_of(TfLiteContext* c, const el_node* node) {
  return c->tensors[node->output].type == kTfLiteInt32 ? 4 : 1;
}

static void view_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  el_view_copy(el_data(io, node->output), el_data(io, node->inputs[0]), &((const move_state*)node->state)->view);
}

/* a constant int32 vector of n entries */
static const int32_t* const_i32(TfLiteContext* c, int idx, int n) {
  const TfLiteTensor* t = el_tensor(c, idx);
  if (t == NULL || t->type != kTfLiteInt32 || !el_is_const(t) || t->dims->size > 1) return NULL;
  if ((t->dims->size == 1 ? t->dims->data[0] : 1) != n) return NULL;
  return t->data.i32;
}

/* ---- TRANSPOSE ---- */

static int transpose_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("unexpected inputs");
  if (!same_data(c, node, 1, why)) return 0;
  const int r = el_tensor(c, node->inputs->data[0])->dims->size;
  const int32_t* p = const_i32(c, node->inputs->data[1], r);
  if (p == NULL) EL_NO("permutation not a constant int32 vector of the input's rank");
  int seen = 0;
  for (int i = 0; i < r; i++) {
    if (p[i] < 0 || p[i] >= r || (seen >> p[i] & 1)) EL_NO("not a permutation");
    seen |= 1 << p[i];
  }
  return 1;
}

static int transpose_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                                  const char** why) {
  const int32_t* p = const_i32(c, node->inputs[1], ins[0].rank);
  if (p == NULL) EL_NO("permutation does not match the input rank");
  o->rank = ins[0].rank;
  for (int i = 0; i < o->rank; i++) o->d[i] = ins[0].d[p[i]];
  return 1;
}

static TfLiteStatus transpose_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                      const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  move_state* s = (move_state*)node->state;
  const int32_t* p = const_i32(c, node->inputs[1], ins[0].rank);
  ptrdiff_t st[EL_MAX_DIMS];
  el_contiguous_strides(&ins[0], st);
  memset(&s->view, 0, sizeof s->view);
  s->view.rank = out->rank, s->view.elem = elem_of(c, node);
  for (int i = 0; i < out->rank; i++) s->view.d[i] = out->d[i], s->view.stride[i] = st[p[i]];
  el_view_simplify(&s->view);
  return kTfLiteOk;
}

const el_op_def el_op_transpose = {kTfLiteBuiltinTranspose, "TRANSPOSE", sizeof(move_state), transpose_check, NULL,
                                   transpose_output_shape, transpose_prepare, view_invoke, NULL};

/* ---- DEPTH_TO_SPACE / SPACE_TO_DEPTH (NHWC; TensorFlow's DCR order: block row, block column, channel) ---- */

static int block_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteDepthToSpaceParams* p = (const TfLiteDepthToSpaceParams*)node->builtin_data;
  if (node->inputs->size != 1 || p == NULL || p->block_size < 1) EL_NO("unexpected inputs or block size");
  if (!same_data(c, node, 0, why)) return 0;
  if (el_tensor(c, node->inputs->data[0])->dims->size != 4) EL_NO("not 4-D");
  return 1;
}

static void block_init(void* state, const TfLiteNode* node) {
  ((move_state*)state)->block = ((const TfLiteDepthToSpaceParams*)node->builtin_data)->block_size;
}

static int block_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                              const char** why) {
  (void)c;
  const int b = ((const move_state*)node->state)->block;
  const el_shape* x = &ins[0];
  if (x->rank != 4) EL_NO("input is not 4-D");
  *o = *x;
  if (node->code == kTfLiteBuiltinDepthToSpace) {
    if (x->d[3] % (b * b) != 0) EL_NO("channels not a multiple of block_size^2");
    o->d[1] = x->d[1] * b, o->d[2] = x->d[2] * b, o->d[3] = x->d[3] / (b * b);
  } else {
    if (x->d[1] % b != 0 || x->d[2] % b != 0) EL_NO("height/width not a multiple of block_size");
    o->d[1] = x->d[1] / b, o->d[2] = x->d[2] / b, o->d[3] = x->d[3] * b * b;
  }
  return 1;
}

static TfLiteStatus block_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)kernels;
  (void)scratch;
  move_state* s = (move_state*)node->state;
  const int b = s->block, H = ins[0].d[1], W = ins[0].d[2], C = ins[0].d[3];
  el_view* v = &s->view;
  memset(v, 0, sizeof *v);
  v->rank = 6, v->elem = elem_of(c, node);
  if (node->code == kTfLiteBuiltinDepthToSpace) {
    /* output as [N, H, b, W, b, Co]: in[n, h, w, (by * b + bx) * Co + c] */
    const int Co = out->d[3];
    const int d[6] = {ins[0].d[0], H, b, W, b, Co};
    const ptrdiff_t st[6] = {(ptrdiff_t)H * W * C, (ptrdiff_t)W * C, (ptrdiff_t)b * Co, C, Co, 1};
    memcpy(v->d, d, sizeof d), memcpy(v->stride, st, sizeof st);
  } else {
    /* output as [N, Ho, Wo, b, b, C]: in[n, ho * b + by, wo * b + bx, c] */
    const int d[6] = {ins[0].d[0], out->d[1], out->d[2], b, b, C};
    const ptrdiff_t st[6] = {(ptrdiff_t)H * W * C, (ptrdiff_t)b * W * C, (ptrdiff_t)b * C, (ptrdiff_t)W * C, C, 1};
    memcpy(v->d, d, sizeof d), memcpy(v->stride, st, sizeof st);
  }
  el_view_simplify(v);
  return kTfLiteOk;
}

const el_op_def el_op_depth_to_space = {kTfLiteBuiltinDepthToSpace, "DEPTH_TO_SPACE", sizeof(move_state),
                                        block_check, block_init, block_output_shape, block_prepare, view_invoke,
                                        NULL};
const el_op_def el_op_space_to_depth = {kTfLiteBuiltinSpaceToDepth, "SPACE_TO_DEPTH", sizeof(move_state),
                                        block_check, block_init, block_output_shape, block_prepare, view_invoke,
                                        NULL};

/* ---- EXPAND_DIMS / SQUEEZE: the bytes do not move ---- */

static int expand_axis(TfLiteContext* c, const el_node* node, int rank) {
  const int a = el_tensor(c, node->inputs[1])->data.i32[0];
  return a < 0 ? a + rank + 1 : a;
}

static int expand_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  if (node->inputs->size != 2) EL_NO("unexpected inputs");
  if (!same_data(c, node, 1, why)) return 0;
  const TfLiteTensor* x = el_tensor(c, node->inputs->data[0]);
  if (const_i32(c, node->inputs->data[1], 1) == NULL) EL_NO("axis not a constant int32");
  const int a = el_tensor(c, node->inputs->data[1])->data.i32[0];
  if (a < -x->dims->size - 1 || a > x->dims->size) EL_NO("axis out of range");
  return 1;
}

static int expand_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                               const char** why) {
  const int a = expand_axis(c, node, ins[0].rank);
  if (a < 0 || a > ins[0].rank || ins[0].rank >= EL_MAX_DIMS) EL_NO("axis out of range");
  o->rank = ins[0].rank + 1;
  for (int i = 0, k = 0; i < o->rank; i++) o->d[i] = i == a ? 1 : ins[0].d[k++];
  return 1;
}

static int squeeze_check(TfLiteContext* c, const TfLiteNode* node, int version, const char** why) {
  (void)version;
  const TfLiteSqueezeParams* p = (const TfLiteSqueezeParams*)node->builtin_data;
  if (node->inputs->size != 1 || p == NULL || p->num_squeeze_dims < 0 || p->num_squeeze_dims > 8)
    EL_NO("unexpected inputs");
  return same_data(c, node, 1, why);
}

static void squeeze_init(void* state, const TfLiteNode* node) {
  move_state* s = (move_state*)state;
  const TfLiteSqueezeParams* p = (const TfLiteSqueezeParams*)node->builtin_data;
  s->n_squeeze = p->num_squeeze_dims;
  for (int i = 0; i < s->n_squeeze; i++) s->squeeze[i] = p->squeeze_dims[i];
}

static int squeeze_output_shape(TfLiteContext* c, const el_node* node, const el_shape* ins, el_shape* o,
                                const char** why) {
  (void)c;
  const move_state* s = (const move_state*)node->state;
  const int r = ins[0].rank;
  int drop = 0;
  for (int i = 0; i < s->n_squeeze; i++) {
    const int a = s->squeeze[i] < 0 ? s->squeeze[i] + r : s->squeeze[i];
    if (a < 0 || a >= r || ins[0].d[a] != 1) EL_NO("squeezed axis out of range or not of size 1");
    drop |= 1 << a;
  }
  o->rank = 0;
  for (int i = 0; i < r; i++)
    if (!(s->n_squeeze == 0 ? ins[0].d[i] == 1 : (drop >> i & 1))) o->d[o->rank++] = ins[0].d[i];
  return 1;
}

static TfLiteStatus bytes_prepare(TfLiteContext* c, el_node* node, const el_shape* ins, const el_shape* out,
                                  const el_kernels* kernels, size_t* scratch) {
  (void)out;
  (void)kernels;
  (void)scratch;
  ((move_state*)node->state)->bytes = el_shape_elements(&ins[0]) * elem_of(c, node);
  return kTfLiteOk;
}

static void bytes_invoke(const el_node* node, const el_io* io, int8_t* scratch) {
  (void)scratch;
  const int8_t* x = el_data(io, node->inputs[0]);
  int8_t* y = el_data(io, node->output);
  if (x != y) memmove(y, x, ((const move_state*)node->state)->bytes);
}

const el_op_def el_op_expand_dims = {kTfLiteBuiltinExpandDims, "EXPAND_DIMS", sizeof(move_state), expand_check,
                                     NULL, expand_output_shape, bytes_prepare, bytes_invoke, NULL};
const el_op_def el_op_squeeze = {kTfLiteBuiltinSqueeze, "SQUEEZE", sizeof(move_state), squeeze_check,
                                 squeeze_init, squeeze_output_shape, bytes_prepare, bytes_invoke, NULL};
