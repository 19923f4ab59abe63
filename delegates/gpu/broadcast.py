"""How LiteRT's optimized int8 ADD and MUL walk two inputs, so the lowering can give each output element the
rounding of the code path that computes it there (see ops_binary.add / mul).

TFLite's ProcessBroadcastShapes folds the two shapes into a "fivefold" loop y0..y4 when it can: inner
elementwise calls of y4 elements (y4 > 1), or calls of one scalar against y3 elements (y4 == 1); otherwise
(category "generic") the reference loop runs element by element. Output elements are written in order, so a
per-element map of "which code path" is the calls' own maps tiled.
"""

from __future__ import annotations

import numpy as np

# per output element
REFERENCE = 0  # a scalar tail, or the reference loop
VECTOR = 1  # an elementwise call's vector body (blocks of 16)
SCALAR_VECTOR = 2  # a scalar-broadcast call's vector body (ADD: blocks of 8; MUL: 16)


def plan(shape0, shape1) -> tuple[str, tuple[int, int, int, int, int]]:
    """(category, (y0..y4)): category 'none' (same shape after padding with leading 1s), 'first' / 'second'
    (fivefold; which input broadcasts in the innermost differing dimension) or 'generic'."""
    r = max(len(shape0), len(shape1))
    e0 = (1,) * (r - len(shape0)) + tuple(int(d) for d in shape0)
    e1 = (1,) * (r - len(shape1)) + tuple(int(d) for d in shape1)
    y = [1, 1, 1, 1, 1]
    if e0 == e1:
        return "none", tuple(y)
    category = "generic"
    for i in range(r - 1, -1, -1):
        if e0[i] == e1[i]:
            continue
        category = "first" if e0[i] == 1 else "second" if e1[i] == 1 else "generic"
        break
    if category == "generic":
        return category, tuple(y)
    a, b = (e1, e0) if category == "second" else (e0, e1)
    i = r - 1
    for slot, test in ((4, lambda i: a[i] == b[i]), (3, lambda i: a[i] == 1), (2, lambda i: a[i] == b[i]),
                       (1, lambda i: b[i] == 1), (0, lambda i: a[i] == b[i])):
        while i >= 0 and test(i):
            y[slot] *= b[i] if slot in (4, 3, 0) else a[i]
            i -= 1
    return ("generic" if i >= 0 else category), tuple(y)


def _call(n: int, width: int, mode: int) -> np.ndarray:
    m = np.full(n, REFERENCE, np.int8)
    m[: n // width * width] = mode
    return m


def path_map(shape0, shape1, out_shape, scalar_width: int) -> np.ndarray:
    """Per output element, which code path computes it (REFERENCE, VECTOR, SCALAR_VECTOR)."""
    size = int(np.prod(out_shape))
    category, y = plan(shape0, shape1)
    if category == "none":
        return _call(size, 16, VECTOR).reshape(out_shape)
    if category == "generic":
        return np.full(out_shape, REFERENCE, np.int8)
    if y[4] > 1:
        calls, one = y[0] * y[1] * y[2] * y[3], _call(y[4], 16, VECTOR)
    else:
        calls, one = y[0] * y[1] * y[2], _call(y[3], scalar_width, SCALAR_VECTOR)
    return np.tile(one, calls).reshape(out_shape)
