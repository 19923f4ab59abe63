"""Random small int8 models over the ops the NEON delegate claims, one per seed (the memory-safety fuzzer).

Each model is a random stack of 3-7 layers drawn from the delegate's op families — convolutions (strides,
paddings, dilations, fused activations), depthwise, dense heads down to one unit, residual ADD / MUL / SUB
branches, pooling, concatenation, padding, resizing, reshape, every standalone activation, softmax — at a random
small input shape, converted to int8 by the bare TF converter and cached. `tests/neon/test_fuzz_models.py`
runs a fixed-seed batch against builtin on x86, and through the ASan + UBSan build.

    from tests.neon import fuzz_models
    data = fuzz_models.tflite(seed)
"""

from __future__ import annotations

import numpy as np

from tests import modelkit
from tests.modelkit import _deterministic, keras

VERSION = "fuzz-v1"  # bump when the generator changes: cached models are keyed by it
ACTIVATIONS = (None, "relu", "relu6", "tanh", "sigmoid", "gelu", "elu")


def _conv(L, rng, x):
    k = int(rng.choice([1, 2, 3, 5]))
    strides = int(rng.choice([1, 1, 2])) if min(x.shape[1:3]) >= 4 else 1
    dilation = int(rng.choice([1, 1, 2])) if strides == 1 and min(x.shape[1:3]) > 2 * k else 1
    act = ACTIVATIONS[int(rng.integers(0, 3))]  # what the converter fuses: none, relu, relu6
    return L.Conv2D(int(rng.integers(1, 20)), k, strides=strides, dilation_rate=dilation, activation=act,
                    padding=str(rng.choice(["same", "valid"])) if min(x.shape[1:3]) > k else "same")(x)


def _depthwise(L, rng, x):
    k = int(rng.choice([3, 5]))
    strides = int(rng.choice([1, 2])) if min(x.shape[1:3]) >= 4 else 1
    return L.DepthwiseConv2D(k, strides=strides, depth_multiplier=int(rng.choice([1, 1, 2])), padding="same",
                             activation=ACTIVATIONS[int(rng.integers(0, 3))])(x)


def _branch(L, rng, x):
    y = L.Conv2D(x.shape[-1], 1)(x)
    merge = [L.Add, L.Multiply, L.Subtract, L.Maximum, L.Minimum][int(rng.integers(0, 5))]
    return merge()([x, y])


def _pool(L, rng, x):
    if min(x.shape[1:3]) < 2:
        return x
    kind = L.MaxPooling2D if rng.random() < 0.5 else L.AveragePooling2D
    return kind(int(rng.choice([2, 3])) if min(x.shape[1:3]) >= 3 else 2, strides=int(rng.choice([1, 2])),
                padding=str(rng.choice(["same", "valid"])))(x)


def _concat(L, rng, x):
    return L.Concatenate()([x, L.Conv2D(int(rng.integers(1, 9)), 1)(x)])


def _pad(L, rng, x):
    return L.ZeroPadding2D(((int(rng.integers(0, 3)), int(rng.integers(0, 3))),
                            (int(rng.integers(0, 3)), int(rng.integers(0, 3)))))(x)


def _resize(L, rng, x):
    return L.UpSampling2D(interpolation=str(rng.choice(["nearest", "bilinear"])))(x)


def _activation(L, rng, x):
    pick = rng.random()
    if pick < 0.15:  # MobileNetV3's hard swish, x * relu6(x + 3) / 6 (the converter fuses it to HARD_SWISH)
        return L.Multiply()([x, L.Rescaling(1 / 6)(L.ReLU(6.0)(L.Rescaling(1.0, offset=3.0)(x)))])
    if pick < 0.3:
        return L.LeakyReLU(float(rng.choice([0.1, 0.3])))(x)
    return L.Activation(ACTIVATIONS[int(rng.integers(1, len(ACTIVATIONS)))])(x)


STEPS = (_conv, _conv, _depthwise, _branch, _pool, _concat, _pad, _resize, _activation)


@_deterministic
def random_model(index=0, version=VERSION, seed=0):
    """Model number `index` of the fuzzer (`version` keys the cache; `seed` feeds modelkit's weights)."""
    K = keras()
    L = K.layers
    rng = np.random.default_rng([index, 20261202])
    shape = (int(rng.integers(3, 14)), int(rng.integers(3, 14)), int(rng.integers(1, 9)))
    inp = L.Input(shape)
    x = inp
    for _ in range(int(rng.integers(3, 8))):
        if x.shape[1] * x.shape[2] * x.shape[3] > 20000:  # keep models small: resizes and concats grow them
            x = L.Conv2D(8, 3, strides=2, padding="same")(x)
            continue
        x = STEPS[int(rng.integers(0, len(STEPS)))](L, rng, x)
    head = int(rng.integers(0, 3))
    if head == 0:  # a classifier head, down to a single logit (SOFTMAX over one value)
        x = L.GlobalAveragePooling2D()(x) if rng.random() < 0.5 else L.Flatten()(x)
        x = L.Softmax()(L.Dense(int(rng.choice([1, 2, 10])))(x))
    elif head == 1:
        x = L.Reshape((-1, x.shape[-1]))(x)
    return K.Model(inp, x)


def tflite(index: int) -> bytes:
    """Fuzz model `index` as full int8 (int8 I/O), converted once and cached."""
    return modelkit.cached("int8", random_model, index=index, version=VERSION)
