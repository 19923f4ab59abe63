"""Block-pruned int8 models for the sparse-kernel tests: the weights of chosen layers zeroed in RxC blocks by the
converter's own mask (converters/masks.py, the one `convert --prune-kind block` applies), then converted to int8
by TensorFlow (zeros stay exactly 0 under symmetric weight quantization). Cached in .cache/modelkit."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from tests.neon.harness import CACHE


def _pruned(model, sparsity: float, block: tuple[int, int], only_1x1: bool = False):
    from edgelift.converters import masks

    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in ("Conv2D", "Dense") or not layer.get_weights():
            continue
        if only_1x1 and kind == "Conv2D" and tuple(layer.kernel_size) != (1, 1):
            continue
        w, *rest = layer.get_weights()
        try:
            mask = masks.block(w, sparsity, *block, layer=layer.name)
        except Exception:  # channels not a multiple of the block: the layer stays dense (like --keep-dense)
            continue
        layer.set_weights([w * mask, *rest])
    return model


def gemm_net(seed: int = 0):
    """1x1 convs (direct GEMM), a 3x3 and a strided 1x1 (im2col), a Dense: every GEMM path of conv.c."""
    from edgelift._tf import keras

    k = keras()
    x = inp = k.Input((14, 14, 32))
    x = k.layers.Conv2D(64, 1, activation="relu", name="pw1")(x)
    x = k.layers.Conv2D(32, 3, padding="same", name="conv3x3")(x)
    x = k.layers.Conv2D(48, 1, strides=2, activation="relu6", name="pw_s2")(x)
    x = k.layers.Conv2D(96, 1, name="pw2")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    x = k.layers.Dense(24, name="fc")(x)
    model = k.Model(inp, x)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def pointwise(shape=(14, 14, 256), filters: int = 256, seed: int = 0):
    """One 1x1 conv (a MobileNet block's expansion or projection), for calibrating the sparse cost rule."""
    from edgelift._tf import keras

    k = keras()
    inp = k.Input(shape)
    model = k.Model(inp, k.layers.Conv2D(filters, 1, name="pw")(inp))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def tflite(builder: str, sparsity: float, block: tuple[int, int], only_1x1: bool = False, **kwargs) -> bytes:
    """int8 (int8 in/out) model of `builder` with its layers block-pruned; cached on disk."""
    key = json.dumps(["sparse-v1", builder, sparsity, block, only_1x1, kwargs], sort_keys=True)
    path = CACHE / f"sparse-{builder}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.tflite"
    if path.exists():
        return path.read_bytes()
    from tests import modelkit

    make = {"gemm_net": gemm_net, "pointwise": pointwise}.get(builder) or getattr(modelkit, builder)
    model = _pruned(make(**kwargs), sparsity, block, only_1x1)
    blob = modelkit.int8_tflite(model, samples=16)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)
    return blob
