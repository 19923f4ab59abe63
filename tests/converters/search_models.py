"""A model int8 breaks by range domination, small enough for the precision search's tests (no training).

Dense d1 -> Dense d2 -> Dense logits with random weights (numpy, seed 0); d1's busiest output channel is scaled
x1000 and d2's weights reading it /1000: the same function in float, while int8 gives d1's output one scale that the
outlier dictates. Labels are the float model's own argmax, so its accuracy is 100%. Measured (LiteRT builtin,
400 eval samples): all int8 67.25%; d1+d2 in int16x8 88.0%; + equalize 90.5% — the budget of the tests below
(20 points) lies between all-int8 and the first move, far from both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURES, CLASSES, FACTOR = 16, 4, 1000.0


def outlier_dense():
    from edgelift._tf import keras

    k = keras()
    L = k.layers
    inp = L.Input((FEATURES,), name="x")
    h = L.Dense(32, activation="relu", name="d1")(inp)
    h = L.Dense(32, activation="relu", name="d2")(h)
    model = k.Model(inp, L.Dense(CLASSES, name="logits")(h))
    rng = np.random.default_rng(0)  # weights from numpy: TensorFlow's initializers depend on what ran before
    model.set_weights([(rng.uniform(-1, 1, w.shape) * (np.sqrt(6 / sum(w.shape)) if w.ndim == 2 else 0.1))
                       .astype(np.float32) for w in model.get_weights()])
    x = rng.normal(size=(600, FEATURES)).astype(np.float32)
    act = np.asarray(k.Model(inp, model.get_layer("d1").output)(x))
    c = int(np.argmax(act.mean(axis=0)))
    w, b = model.get_layer("d1").get_weights()
    w[:, c] *= FACTOR
    b[c] *= FACTOR
    model.get_layer("d1").set_weights([w, b])
    w2, b2 = model.get_layer("d2").get_weights()
    w2[c, :] /= FACTOR
    model.get_layer("d2").set_weights([w2, b2])
    return model, x


def write_files(folder: Path, eval_copies: int = 1) -> Path:
    """o.keras, f.tflite (its float .tflite), cal.npz (200 inputs), eval.npz (400 labelled, repeated
    `eval_copies` times: a slower evaluation for the Ctrl-C test)."""
    from edgelift.converters.pipeline import convert

    model, x = outlier_dense()
    y = model.predict(x, verbose=0).argmax(axis=1)
    model.save(folder / "o.keras")
    convert(str(folder / "o.keras"), str(folder / "f.tflite"), quantize="none")
    (folder / "f.recipe.yaml").unlink()
    np.savez(folder / "cal.npz", x=x[:200])
    np.savez(folder / "eval.npz", x=np.tile(x[200:], (eval_copies, 1)), y=np.tile(y[200:], eval_copies))
    return folder
