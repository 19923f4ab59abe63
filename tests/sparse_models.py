"""Dense models with block-pruned weights, converted by TensorFlow's TFLite converter with its sparsity option
(EXPERIMENTAL_SPARSITY), so the weights land in TFLite's sparse tensor format. Cached under .cache/modelkit."""

from __future__ import annotations

import numpy as np

from tests.modelkit import CACHE

KEEP = 0.3  # share of 4x1 blocks of fc1's Keras kernel [in, out] kept (1x4 blocks over the TFLite [out, in] view)


def pruned_fc1_kernel() -> np.ndarray:
    """fc1's Keras kernel [64 in, 64 out] after pruning, as the model holds it."""
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.2, (64, 64)).astype(np.float32)
    w[w == 0] = 0.01
    mask = rng.random((16, 64)) < KEEP
    return w * np.repeat(mask, 4, axis=0)


def sparse_fc(kind: str) -> bytes:
    """'float' or 'int8' (float I/O) bytes of 64 -> fc1 (64, block-pruned) -> fc2 (16, dense)."""
    path = CACHE / f"sparse_fc-v1-{kind}.tflite"
    if path.exists():
        return path.read_bytes()
    from edgelift._tf import keras, tensorflow

    tf, k = tensorflow(), keras()
    rng = np.random.default_rng(1)
    inp = k.layers.Input((64,))
    h = k.layers.Dense(64, activation="relu", name="fc1")(inp)
    m = k.Model(inp, k.layers.Dense(16, name="fc2")(h))
    m.get_layer("fc1").set_weights([pruned_fc1_kernel(), np.zeros(64, np.float32)])
    m.get_layer("fc2").set_weights([rng.normal(0, 0.2, (64, 16)).astype(np.float32), np.zeros(16, np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(m)
    conv.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    if kind == "int8":
        conv.optimizations.append(tf.lite.Optimize.DEFAULT)
        conv.representative_dataset = lambda: ([rng.uniform(-1, 1, (1, 64)).astype(np.float32)] for _ in range(16))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    data = conv.convert()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data
