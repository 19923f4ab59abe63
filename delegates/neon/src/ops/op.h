/* The op table's interface: what one op (one builtin code) provides, and what a delegated node holds.
 *
 * Each op family lives in its own file (conv.c, depthwise.c, elementwise.c, pool.c, layout.c, activations.c,
 * shape.c) and defines one el_op_def per builtin code it computes; registry.c lists them all. A node gets its
 * own zeroed state struct of def->state_size bytes at init; the op's functions are the only code that reads it.
 *
 * Life of a node: check (may the delegate claim it?) -> init (copy builtin options into the state) ->
 * [output_shape -> prepare] at every kernel prepare (shapes can change with a resize) -> invoke (only
 * computes; tensor data pointers are looked up on every call) -> release (free what prepare allocated).
 */
#ifndef EDGELIFT_OP_H
#define EDGELIFT_OP_H

#include <stddef.h>
#include <stdint.h>

#include "../abi/tflite_abi.h"
#include "../threadpool.h"

#define EL_MAX_INPUTS 16
#define EL_MAX_OUTPUTS 16
#define EL_MAX_DIMS 6

typedef struct el_shape {
  int rank;
  int d[EL_MAX_DIMS];
} el_shape;

/* What a per-node kernel choice may look at (see kernel_choice.h): the CPU and the user's forced variant. */
enum { EL_SPARSE_AUTO = 0, EL_SPARSE_OFF = 1, EL_SPARSE_ALWAYS = 2 }; /* option sparse= (sparse_choice.h) */
/* option fuse= (fusion.h, plugin.c): add = EL_FUSE_ADD, dwconv = EL_FUSE_DW_PROJECT, block = dwconv + EL_FUSE_EXPAND,
 * on = add + dwconv, all = add + block */
enum { EL_FUSE_ADD = 1, EL_FUSE_DW_PROJECT = 2, EL_FUSE_EXPAND = 4 };

typedef struct el_kernels {
  unsigned cpu_features;
  const char* forced; /* "auto", "scalar", "neon", "dot" or "avx2" */
  int sparse;         /* EL_SPARSE_*: block-sparse GEMM by the cost rule (default), never, or wherever a block is 0 */
  int fusion;         /* EL_FUSE_* bits; 0 (fuse=off, the default): every node runs on its own (fusion.h) */
} el_kernels;

struct el_op_def;

typedef struct el_node {
  const struct el_op_def* def;
  int code;
  int node_index;
  int n_inputs;
  int inputs[EL_MAX_INPUTS];
  int output; /* outputs[0] */
  int n_outputs;
  int outputs[EL_MAX_OUTPUTS];
  void* state; /* def->state_size bytes, zeroed at init, owned by the op */
} el_node;

typedef struct el_io {
  TfLiteContext* context;
  int8_t** own;  /* per tensor index: the partition's own buffer for internal tensors, else NULL */
  el_pool* pool; /* NULL: single-threaded */
} el_io;

static inline int8_t* el_data(const el_io* io, int idx) {
  return io->own[idx] ? io->own[idx] : io->context->tensors[idx].data.int8;
}

typedef struct el_op_def {
  int code; /* TFLite builtin operator code */
  const char* name;
  size_t state_size;
  /* Can the delegate compute this node exactly? On no, *why names the reason (static string). */
  int (*check)(TfLiteContext* context, const TfLiteNode* node, int version, const char** why);
  /* Copies builtin options into the state (builtin_data is the runtime's and is not kept); may be NULL. */
  void (*init)(void* state, const TfLiteNode* node);
  /* The output shape for the current input shapes `ins` (the runtime does not propagate shapes through
   * delegated nodes); `out` holds one shape per output (multi-output ops fill them all). 0 with *why when the
   * node cannot take these shapes. */
  int (*output_shape)(TfLiteContext* context, const el_node* node, const el_shape* ins, el_shape* out,
                      const char** why);
  /* Derives quantization parameters, chooses the node's kernel and packs constant weights for these shapes;
   * *scratch grows to what invoke needs. */
  TfLiteStatus (*prepare)(TfLiteContext* context, el_node* node, const el_shape* ins, const el_shape* out,
                          const el_kernels* kernels, size_t* scratch);
  void (*invoke)(const el_node* node, const el_io* io, int8_t* scratch);
  /* Frees what prepare allocated (not the state itself); may be NULL. */
  void (*release)(void* state);
} el_op_def;

/* node.c: a node with its op, tensor indices and fresh state (the options copied by the op's init); 0 when the
 * code is not in the op table or memory ran out. el_node_free releases and frees the state. */
int el_node_init(el_node* n, const TfLiteNode* node, int code, int index);
void el_node_free(el_node* n);

/* registry.c: the op table */
const el_op_def* el_op_find(int code);
/* Checks shared by every op (a known code, as many outputs as it takes), then the op's own check. */
int el_op_supported(TfLiteContext* context, const TfLiteNode* node, int code, int version, const char** why);

#endif
