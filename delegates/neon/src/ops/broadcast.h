/* How LiteRT's optimized binary int8 kernels (ADD, MUL) walk two broadcast inputs, reproduced because the
 * rounding differs by code path (elementwise.c): TFLite's ProcessBroadcastShapes folds the two shapes into a
 * "fivefold" loop y0..y4 when it can (inner calls of y4 elements, or a scalar against y3 elements when
 * y4 == 1), and falls back to the reference element-by-element loop otherwise. */
#ifndef EDGELIFT_BROADCAST_H
#define EDGELIFT_BROADCAST_H

#include <stddef.h>

#include "op.h"

typedef enum el_bcast_category {
  EL_BCAST_NONE = 0,        /* same shape (after padding the rank with leading 1s): one elementwise call */
  EL_BCAST_FIRST_FAST = 1,  /* fivefold, the first input broadcasts in the innermost differing dimension */
  EL_BCAST_SECOND_FAST = 2, /* fivefold with the inputs' roles switched */
  EL_BCAST_GENERIC = 3,     /* the reference loop */
} el_bcast_category;

typedef struct el_bcast {
  el_bcast_category category;
  size_t y[5];
} el_bcast;

el_bcast el_bcast_plan(const el_shape* a, const el_shape* b);

/* Output strides of a right-aligned broadcast input (0 along broadcast dimensions). */
void el_bcast_strides(const el_shape* in, const el_shape* out, size_t* strides);

#endif
