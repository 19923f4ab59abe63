"""A model pruning hurts unevenly, small enough for the sparsity search's tests (one-shot pruning, no training).

Dense d1 (16 -> 64) -> Dense d2 (64 -> 64) -> Dense logits, random weights from numpy (seed 0); labels are the
float model's own argmax, so its accuracy is 100%. d1 reads only 16 inputs, so zeroing 90% of its weights
removes most of what each unit sees, while d2's 64-wide sums lose less.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FEATURES, WIDTH, CLASSES = 16, 64, 4


def mlp():
    from edgelift._tf import keras

    k = keras()
    L = k.layers
    inp = L.Input((FEATURES,), name="x")
    h = L.Dense(WIDTH, activation="relu", name="d1")(inp)
    h = L.Dense(WIDTH, activation="relu", name="d2")(h)
    model = k.Model(inp, L.Dense(CLASSES, name="logits")(h))
    rng = np.random.default_rng(0)  # weights from numpy: TensorFlow's initializers depend on what ran before
    model.set_weights([(rng.uniform(-1, 1, w.shape) * (np.sqrt(6 / sum(w.shape)) if w.ndim == 2 else 0.1))
                       .astype(np.float32) for w in model.get_weights()])
    return model, rng.normal(size=(600, FEATURES)).astype(np.float32)


def write_files(folder: Path) -> Path:
    """m.keras, cal.npz (200 inputs), eval.npz (400 labelled by the float model)."""
    model, x = mlp()
    y = model.predict(x, verbose=0).argmax(axis=1)
    model.save(folder / "m.keras")
    np.savez(folder / "cal.npz", x=x[:200])
    np.savez(folder / "eval.npz", x=x[200:], y=y[200:])
    return folder
