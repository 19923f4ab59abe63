/* The strided copy of strided.h. */
#include "strided.h"

#include <string.h>

void el_contiguous_strides(const el_shape* s, ptrdiff_t* strides) {
  ptrdiff_t st = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    strides[i] = st;
    st *= s->d[i];
  }
}

void el_view_simplify(el_view* v) {
  el_view w = *v;
  w.rank = 0;
  for (int i = 0; i < v->rank; i++) {
    if (v->d[i] == 0) { /* empty output: nothing to copy */
      v->rank = 1, v->d[0] = 0, v->stride[0] = 1;
      return;
    }
    if (v->d[i] == 1) continue;
    if (w.rank > 0 && w.stride[w.rank - 1] == v->stride[i] * v->d[i]) {
      w.d[w.rank - 1] *= v->d[i];
      w.stride[w.rank - 1] = v->stride[i];
    } else {
      w.d[w.rank] = v->d[i], w.stride[w.rank] = v->stride[i];
      w.rank++;
    }
  }
  if (w.rank == 0) w.rank = 1, w.d[0] = 1, w.stride[0] = 1;
  *v = w;
}

void el_view_copy(void* dst, const void* src, const el_view* v) {
  const int R = v->rank;
  if (R == 0) {
    memcpy(dst, (const char*)src + v->base * (ptrdiff_t)v->elem, v->elem);
    return;
  }
  size_t rows = 1;
  for (int i = 0; i < R - 1; i++) rows *= (size_t)v->d[i];
  const int n = v->d[R - 1];
  if (n == 0) return;
  const ptrdiff_t es = (ptrdiff_t)v->elem, inner = v->stride[R - 1];
  char* y = (char*)dst;
  int idx[EL_MAX_DIMS] = {0};
  ptrdiff_t off = v->base;
  for (size_t r = 0; r < rows; r++) {
    const char* x = (const char*)src + off * es;
    if (inner == 1) {
      memcpy(y, x, (size_t)n * v->elem);
    } else if (es == 1) {
      for (int k = 0; k < n; k++) y[k] = x[k * inner];
    } else {
      for (int k = 0; k < n; k++) memcpy(y + k * es, x + k * inner * es, (size_t)es);
    }
    y += (size_t)n * v->elem;
    for (int d = R - 2; d >= 0; d--) { /* odometer over the outer axes */
      off += v->stride[d];
      if (++idx[d] < v->d[d]) break;
      off -= v->stride[d] * v->d[d];
      idx[d] = 0;
    }
  }
}
