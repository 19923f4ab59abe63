/* TFLite's ProcessBroadcastShapes, as a plan (see broadcast.h). */
#include "broadcast.h"

el_bcast el_bcast_plan(const el_shape* s0, const el_shape* s1) {
  el_bcast p = {EL_BCAST_GENERIC, {1, 1, 1, 1, 1}};
  const int r = s0->rank > s1->rank ? s0->rank : s1->rank;
  int e0[EL_MAX_DIMS], e1[EL_MAX_DIMS];
  for (int i = 0; i < r; i++) {
    const int i0 = i - (r - s0->rank), i1 = i - (r - s1->rank);
    e0[i] = i0 >= 0 ? s0->d[i0] : 1;
    e1[i] = i1 >= 0 ? s1->d[i1] : 1;
  }
  int same = 1;
  for (int i = 0; i < r; i++) same &= e0[i] == e1[i];
  if (same) {
    p.category = EL_BCAST_NONE;
    return p;
  }
  for (int i = r - 1; i >= 0; i--) {
    if (e0[i] == e1[i]) continue;
    if (e0[i] == 1) p.category = EL_BCAST_FIRST_FAST;
    else if (e1[i] == 1) p.category = EL_BCAST_SECOND_FAST;
    else p.category = EL_BCAST_GENERIC;
    break;
  }
  if (p.category == EL_BCAST_GENERIC) return p;
  const int* a = p.category == EL_BCAST_SECOND_FAST ? e1 : e0;
  const int* b = p.category == EL_BCAST_SECOND_FAST ? e0 : e1;
  int i = r - 1;
  while (i >= 0 && a[i] == b[i]) p.y[4] *= (size_t)b[i--];
  while (i >= 0 && a[i] == 1) p.y[3] *= (size_t)b[i--];
  while (i >= 0 && a[i] == b[i]) p.y[2] *= (size_t)a[i--];
  while (i >= 0 && b[i] == 1) p.y[1] *= (size_t)a[i--];
  while (i >= 0 && a[i] == b[i]) p.y[0] *= (size_t)b[i--];
  if (i >= 0) p.category = EL_BCAST_GENERIC;
  return p;
}

void el_bcast_strides(const el_shape* in, const el_shape* out, size_t* strides) {
  size_t st = 1;
  for (int i = out->rank - 1; i >= 0; i--) {
    const int ii = i - (out->rank - in->rank);
    const int d = ii >= 0 ? in->d[ii] : 1;
    strides[i] = d == 1 ? 0 : st;
    st *= (size_t)d;
  }
}
