"""scikit-learn's bundled 8x8 digits (1,797 real handwritten samples, offline) and a small CNN for them.

Shared by the example (`run.py`), the tests and the benchmarks, so all of them use the same model.
"""

from __future__ import annotations

import numpy as np


def load_digits_data(test_fraction: float = 0.25, seed: int = 0):
    """Return (x_train, y_train, x_test, y_test): float32 images in [0, 1], shape (N, 8, 8, 1); int64 labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[..., None]
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def build_cnn(seed: int = 0):
    """A small CNN: conv, conv, pool, conv, global pool, dense. ~6k parameters."""
    from edgelift._tf import keras, tensorflow

    tensorflow().random.set_seed(seed)
    k = keras()
    layers = k.layers
    return k.Sequential(
        [
            layers.Input((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Conv2D(32, 3, padding="same", activation="relu", name="conv3"),
            layers.GlobalAveragePooling2D(name="gap"),
            layers.Dense(32, activation="relu", name="fc1"),
            layers.Dense(10, name="logits"),
        ],
        name="digits_cnn",
    )


def train_cnn(epochs: int = 30, seed: int = 0, verbose: int = 0):
    """Build and train the CNN; returns (model, (x_train, y_train, x_test, y_test))."""
    from edgelift._tf import keras

    data = load_digits_data(seed=seed)
    x_train, y_train, _, _ = data
    model = build_cnn(seed)
    model.compile(
        optimizer=keras().optimizers.Adam(3e-3),
        loss=keras().losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=verbose, shuffle=True)
    return model, data
