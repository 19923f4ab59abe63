"""An int8 model whose GEMM layers take every NEON register tile under the per-layer choice
(delegates/neon/src/kernels/qs8_gemm_cost.h), for the tile tests on x86-64 and on the emulated Pi 4 / Pi 5:

    conv    CONV_2D 3x3         M = 64, N = 16, K = 72    Pi 4: 4x16c4__neon_mlal   Pi 5: 4x16__neondot
    deep    FULLY_CONNECTED     M = 1,  N = 48, K = 1024  Pi 4: 2x8__neon_mlal      Pi 5: 4x16__neondot
    rows3   CONV_2D 1x1         M = 3,  N = 16, K = 16    Pi 4: 4x16c4__neon_mlal   Pi 5: 4x16c4__neon_mlal

(the deep batch-1 layer: one row, where the 2x8's 8 independent accumulators beat the 4x16c4's single row; three
shallow rows: the neondot variant runs rows left over one at a time). Converted once, cached like modelkit's."""

from __future__ import annotations

from edgelift._tf import keras
from tests import modelkit

# variant per GEMM node in graph order (conv, deep, rows3), by the kernels= level the delegate runs at
EXPECTED = {
    "pi4": ("qs8_gemm_4x16c4__neon_mlal", "qs8_gemm_2x8__neon_mlal", "qs8_gemm_4x16c4__neon_mlal"),
    "pi5": ("qs8_gemm_4x16__neondot", "qs8_gemm_4x16__neondot", "qs8_gemm_4x16c4__neon_mlal"),
}


@modelkit._deterministic
def tile_net(seed: int = 0):
    L = keras().layers
    inp = L.Input((8, 8, 8))
    x = L.Conv2D(16, 3, padding="same", activation="relu", name="conv")(inp)
    x = L.Flatten()(x)
    x = L.Dense(48, activation="relu", name="deep")(x)
    x = L.Reshape((1, 3, 16))(x)  # three pixels: a 1x1 conv is a GEMM of 3 rows (a Dense on 3-D input converts
    out = L.Conv2D(16, 1, name="rows3")(x)  # to a shape-computing graph whose rows prepare cannot see)
    return keras().Model(inp, out)


def tflite() -> bytes:
    return modelkit.cached("int8", tile_net)
