"""Fixtures for the converter tests: a tiny conv net (seconds to convert) and data files for it."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift._tf import keras, tensorflow

SHAPE = (8, 8, 4)
CLASSES = 4


def tiny(seed: int = 0):
    """conv c1 (first conv) -> conv c2 -> conv c3 -> flatten -> dense d1 -> dense logits (classifier)."""
    tensorflow().random.set_seed(seed)
    k = keras()
    L = k.layers
    inp = L.Input(SHAPE, name="image")
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inp)
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="c2")(x)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="c3")(x)
    x = L.Flatten(name="flat")(x)
    x = L.Dense(16, activation="relu", name="d1")(x)
    return k.Model(inp, L.Dense(CLASSES, name="logits")(x), name="tiny")


def arrays(n: int = 64, seed: int = 0):
    """Inputs with a learnable label: the class is the quadrant with the largest mean."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, *SHAPE)).astype(np.float32)
    y = rng.integers(0, CLASSES, n)
    for i, c in enumerate(y):
        r, s = divmod(int(c), 2)
        x[i, r * 4 : r * 4 + 4, s * 4 : s * 4 + 4, :] += 0.7
    return x, y.astype(np.int64)


@pytest.fixture
def model():
    return tiny()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("convdata")
    x, y = arrays(96)
    np.savez(d / "train.npz", x=x, y=y)
    xe, ye = arrays(48, seed=1)
    np.savez(d / "eval.npz", x=xe, y=ye)
    np.save(d / "calib.npy", x[:32])
    return d


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("convmodel") / "tiny.keras"
    tiny().save(path)
    return path
