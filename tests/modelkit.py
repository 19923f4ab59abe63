"""Tiny models for tests, converted with TensorFlow's own TFLite converter.

Deliberately independent of `edgelift.convert` so the code under test is not its own oracle. Every
builder returns a tf_keras model; `int8_tflite` / `float_tflite` turn it into flatbuffer bytes.
Conversions are cached on disk under .cache/modelkit (keyed by the builder's arguments) because
MobileNet-sized conversions take tens of seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from edgelift._tf import keras, tensorflow

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "modelkit"


# -- conversion ---------------------------------------------------------------------------------------
def representative(model, n: int = 32, seed: int = 0, low: float = -1.0, high: float = 1.0):
    shapes = [tuple(d or 1 for d in inp.shape[1:]) for inp in model.inputs]
    rng = np.random.default_rng(seed)

    def gen():
        for _ in range(n):
            yield [rng.uniform(low, high, (1, *s)).astype(np.float32) for s in shapes]

    return gen


def int8_tflite(model, *, io: str = "int8", samples: int = 32, seed: int = 0, data=None) -> bytes:
    """Full-integer model (per-channel weights, int8 activations); io 'int8' or 'float32'.

    `data`: optional float32 array of calibration inputs (first axis = samples); random in [-1, 1] otherwise.
    """
    tf = tensorflow()
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if data is not None:
        def gen():
            for i in range(min(samples, len(data))):
                yield [np.asarray(data[i : i + 1], dtype=np.float32)]
        conv.representative_dataset = gen
    else:
        conv.representative_dataset = representative(model, samples, seed)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if io == "int8":
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def float_tflite(model) -> bytes:
    tf = tensorflow()
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def cached(kind: str, builder, *args, **kwargs) -> bytes:
    """Convert builder(*args, **kwargs) with `kind` ('int8', 'int8-floatio' or 'float'), caching the bytes."""
    # "v2": builders became deterministic across processes (_reinit); older cached files differ
    key = json.dumps(["v2", kind, builder.__name__, args, kwargs], sort_keys=True, default=str)
    path = CACHE / f"{builder.__name__}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.tflite"
    if path.exists():
        return path.read_bytes()
    model = builder(*args, **kwargs)
    if kind == "float":
        data = float_tflite(model)
    else:
        data = int8_tflite(model, io="float32" if kind == "int8-floatio" else "int8")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


# -- single-op builders ----------------------------------------------------------------------------------
def _seed(seed: int) -> None:
    tensorflow().random.set_seed(seed)
    np.random.seed(seed)


def _reinit(model, seed: int):
    """Give kernels and biases values drawn from numpy with `seed`.

    Keras initializers are not reproducible across processes (their op seeds depend on what ran before), so a
    builder would otherwise make a different model in every test run. Kernels: uniform with variance
    1/fan_in; biases: small and non-zero, so bias handling is exercised. Normalization statistics stay.
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for w in layer.weights:
            kind = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if kind == "kernel":
                fan_in = int(np.prod(shape[:-1]))
            elif kind == "depthwise_kernel":
                fan_in = int(np.prod(shape[:2]))
            elif kind == "bias":
                w.assign(rng.uniform(-0.1, 0.1, shape).astype(np.float32))
                continue
            else:
                continue
            limit = float(np.sqrt(3.0 / max(fan_in, 1)))
            w.assign(rng.uniform(-limit, limit, shape).astype(np.float32))
    return model


def _deterministic(builder):
    """Builders take `seed` and return the same weights for the same arguments in every process."""

    @functools.wraps(builder)
    def build(*args, **kwargs):
        seed = kwargs.get("seed", 0)
        _seed(seed)
        return _reinit(builder(*args, **kwargs), seed)

    return build


@_deterministic
def conv2d(shape=(9, 9, 3), filters=8, kernel=3, strides=1, padding="same", dilation=1,
           activation=None, use_bias=True, seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    out = L.Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                   activation=activation, use_bias=use_bias)(inp)
    return keras().Model(inp, out)


@_deterministic
def depthwise_conv2d(shape=(9, 9, 8), kernel=3, strides=1, padding="same", multiplier=1, dilation=1,
                     activation=None, seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    out = L.DepthwiseConv2D(kernel, strides=strides, padding=padding, depth_multiplier=multiplier,
                            dilation_rate=dilation, activation=activation)(inp)
    return keras().Model(inp, out)


@_deterministic
def conv2d_transpose(shape=(5, 5, 8), filters=8, kernel=2, strides=2, padding="same", activation=None,
                     use_bias=True, seed=0):
    """Keras Conv2DTranspose: one TRANSPOSE_CONV node (the U-Net's upsampling)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    out = L.Conv2DTranspose(filters, kernel, strides=strides, padding=padding, activation=activation,
                            use_bias=use_bias)(inp)
    return keras().Model(inp, out)


@_deterministic
def grouped_conv2d(shape=(9, 9, 8), filters=8, kernel=3, groups=8, strides=1, padding="same", dilation=1,
                   activation=None, use_bias=True, seed=0):
    """Keras Conv2D(groups=...): one CONV_2D node whose filter has shape[-1] / groups input channels
    (ConvNeXt's depthwise 7x7 is groups = channels)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    out = L.Conv2D(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation, groups=groups,
                   activation=activation, use_bias=use_bias)(inp)
    return keras().Model(inp, out)


@_deterministic
def dense(features=16, units=10, activation=None, seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input((features,))
    return keras().Model(inp, L.Dense(units, activation=activation)(inp))


@_deterministic
def binary(op="add", shape=(5, 5, 7), broadcast=False, activation=None, seed=0):
    """ADD or MUL of two branches (each a 1x1 conv so both operands are activations with own scales)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    a = L.Conv2D(shape[-1], 1)(inp)
    b = L.Conv2D(shape[-1], 1)(inp)
    if broadcast:
        b = L.GlobalAveragePooling2D(keepdims=True)(b)
    out = L.Add()([a, b]) if op == "add" else L.Multiply()([a, b])
    if activation:
        out = L.Activation(activation)(out)
    return keras().Model(inp, out)


@_deterministic
def pool(kind="max", shape=(9, 9, 5), size=2, strides=2, padding="valid", seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    layer = L.MaxPooling2D if kind == "max" else L.AveragePooling2D
    return keras().Model(inp, layer(size, strides=strides, padding=padding)(inp))


@_deterministic
def mean(shape=(7, 7, 9), keepdims=False, seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    return keras().Model(inp, L.GlobalAveragePooling2D(keepdims=keepdims)(inp))


@_deterministic
def pad(shape=(5, 5, 3), padding=((1, 2), (2, 1)), seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    x = L.Conv2D(shape[-1], 1)(inp)
    return keras().Model(inp, L.ZeroPadding2D(padding)(x))


@_deterministic
def concat(shape=(5, 5, 3), channels=(3, 4, 1), seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    parts = [L.Conv2D(c, 1)(inp) for c in channels]
    return keras().Model(inp, L.Concatenate(axis=-1)(parts))


@_deterministic
def reshape_softmax(features=12, units=10, seed=0):
    _seed(seed)
    L = keras().layers
    inp = L.Input((2, 2, features // 4))
    x = L.Reshape((features,))(inp)
    x = L.Dense(units)(x)
    return keras().Model(inp, L.Softmax()(x))


@_deterministic
def activation(kind="hard_swish", shape=(6, 6, 4), seed=0):
    """'hard_swish' (lowered to HARD_SWISH), 'sigmoid' (LOGISTIC), 'relu', 'relu6'."""
    _seed(seed)
    tf = tensorflow()
    L = keras().layers
    inp = L.Input(shape)
    x = L.Conv2D(shape[-1], 1)(inp)
    if kind == "hard_swish":
        out = L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0)(x)
    else:
        out = L.Activation(kind)(x)
    return keras().Model(inp, out)


@_deterministic
def conv_prelu(shape=(6, 6, 4), seed=0):
    """A conv followed by PReLU (PRELU, builtin code 54) with one alpha per channel."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    return keras().Model(inp, L.PReLU(shared_axes=[1, 2])(L.Conv2D(shape[-1], 1)(inp)))


@_deterministic
def conv_transpose(shape=(6, 6, 4), seed=0):
    """A conv followed by a 2x transposed conv (TRANSPOSE_CONV, builtin code 67: the NEON delegate and the XLA
    path both compute it)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    return keras().Model(inp, L.Conv2DTranspose(shape[-1], 2, strides=2)(L.Conv2D(shape[-1], 1)(inp)))


@_deterministic
def inverted_residual(shape=(8, 8, 16), expand=4, conv_second=False, add_activation=None, project_seen=False,
                      seed=0):
    """MobileNetV2's block: expand 1x1 -> depthwise 3x3 -> project 1x1, + the block input (itself a 1x1 conv's
    output, so the residual is computed inside the graph). conv_second: the project conv is the ADD's second
    input; add_activation: "relu" after the ADD (fused into it); project_seen: the project conv's output is also
    a model output (so it must be stored)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    x = L.Conv2D(shape[-1], 1)(inp)
    y = L.Conv2D(shape[-1] * expand, 1, activation="relu6")(x)
    y = L.DepthwiseConv2D(3, padding="same", activation="relu6")(y)
    y = L.Conv2D(shape[-1], 1)(y)
    out = L.Add()([x, y] if conv_second else [y, x])
    if add_activation:
        out = L.Activation(add_activation)(out)
    return keras().Model(inp, [out, y] if project_seen else out)


@_deterministic
def depthwise_project(shape=(9, 9, 16), strides=1, padding="same", kernel=3, filters=24, expand=None,
                      residual=False, dw_activation="relu6", dw_seen=False, seed=0):
    """Depthwise kxk -> project 1x1 (linear), as in MobileNetV2's blocks: optionally an expand 1x1 (relu6) in
    front (`expand` times the channels) and the block input added after (`residual`: needs stride 1 and
    filters == channels); dw_seen: the depthwise output is also a model output (so it must be stored)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    x = L.Conv2D(shape[-1] * expand, 1, activation="relu6")(inp) if expand else inp
    d = L.DepthwiseConv2D(kernel, strides=strides, padding=padding, activation=dw_activation)(x)
    y = L.Conv2D(filters, 1)(d)
    if residual:
        y = L.Add()([y, inp])
    return keras().Model(inp, [y, d] if dw_seen else y)


@_deterministic
def dense_residual(features=16, hidden=32, classes=10, seed=0):
    """A transformer-style MLP residual: h + Dense(Dense(h)), then a classifier (FULLY_CONNECTED + ADD)."""
    _seed(seed)
    L = keras().layers
    inp = L.Input((features,))
    h = L.Dense(features)(inp)
    y = L.Dense(features)(L.Dense(hidden, activation="relu")(h))
    return keras().Model(inp, L.Dense(classes)(L.Add()([y, h])))


# -- whole models ----------------------------------------------------------------------------------------
@_deterministic
def mobilenet_v2(size=224, alpha=1.0, seed=0):
    _seed(seed)
    return keras().applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha, weights=None)


@_deterministic
def mobilenet_v1(size=128, alpha=0.25, seed=0):
    _seed(seed)
    return keras().applications.MobileNet(input_shape=(size, size, 3), alpha=alpha, weights=None)


@_deterministic
def small_resnet(shape=(32, 32, 3), classes=10, seed=0):
    """Two residual blocks with ADD, one strided, then global pooling and a classifier."""
    _seed(seed)
    L = keras().layers
    inp = L.Input(shape)
    x = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
    for filters, stride in ((16, 1), (32, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
        y = L.Conv2D(filters, 3, padding="same")(y)
        if stride != 1 or x.shape[-1] != filters:
            x = L.Conv2D(filters, 1, strides=stride)(x)
        x = L.ReLU()(L.Add()([x, y]))
    x = L.GlobalAveragePooling2D()(x)
    return keras().Model(inp, L.Dense(classes)(x))


# 30 epochs left the float CNN between 88% (a CI machine) and 98% on the test split, seed and CPU deciding;
# 100 epochs measured 98.2-99.3% over 8 seeds here, ~20 s once per process
DIGITS_EPOCHS = 100


def trained_digits_cnn(epochs: int = DIGITS_EPOCHS):
    """The example's digits CNN, trained once per process (per epoch count, however it is passed)."""
    return _trained_digits_cnn(int(epochs))


@functools.cache  # keyed on the epoch count alone: (), (100) and (epochs=100) are one training, not three
def _trained_digits_cnn(epochs: int):
    from examples.digits.digits import train_cnn

    return train_cnn(epochs=epochs)


def digits_int8(epochs: int = DIGITS_EPOCHS) -> bytes:
    """int8 .tflite of the trained digits CNN, calibrated on its training images (converted once per process)."""
    return _digits_int8(int(epochs))


@functools.cache
def _digits_int8(epochs: int) -> bytes:
    model, (x_train, *_rest) = trained_digits_cnn(epochs)
    return int8_tflite(model, data=x_train, samples=200)
