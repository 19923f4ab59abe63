/* One strided copy for every data-movement op: the output is written in row-major order, and its element
 * (i_0, ..., i_{r-1}) is read from the source at base + sum(i_k * stride_k) elements (strides may be zero
 * or negative). TRANSPOSE, SLICE, STRIDED_SLICE, DEPTH_TO_SPACE and SPACE_TO_DEPTH are views of this kind. */
#ifndef EDGELIFT_OP_STRIDED_H
#define EDGELIFT_OP_STRIDED_H

#include <stddef.h>

#include "op.h"

typedef struct el_view {
  int rank;
  int d[EL_MAX_DIMS];            /* output extents */
  ptrdiff_t stride[EL_MAX_DIMS]; /* source step per output index, in elements */
  ptrdiff_t base;                /* source offset of output element 0, in elements */
  size_t elem;                   /* bytes per element (1: int8, 4: int32) */
} el_view;

/* Row-major strides (in elements) of a contiguous tensor of shape s. */
void el_contiguous_strides(const el_shape* s, ptrdiff_t* strides);
/* Drops extent-1 axes and merges axes that are contiguous in the source, so the innermost copy is long. */
void el_view_simplify(el_view* v);
void el_view_copy(void* dst, const void* src, const el_view* v);

#endif
