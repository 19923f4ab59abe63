"""A zoo of real architectures at small inputs, for coverage and exactness of the delegate and the XLA path.

Keras applications with weights=None (deterministic weights through modelkit) plus edge models written here:
keyword spotting (DS-CNN), a transformer encoder block, a U-Net, a YOLO-style two-scale head and an LSTM with
batch 1. Each converts with TensorFlow's own converter to full int8 (random calibration) and is cached under
.cache/modelkit like every modelkit conversion.

    from tests import zoo
    data = zoo.tflite("mobilenet_v3_large")      # bytes
    zoo.NAMES                                    # every entry, in a stable order
"""

from __future__ import annotations

from tests import modelkit
from tests.modelkit import _deterministic, keras


def _app(name: str, size: int, **kwargs):
    return getattr(keras().applications, name)(input_shape=(size, size, 3), weights=None, classes=10, **kwargs)


@_deterministic
def application(name="MobileNetV3Large", size=64, seed=0):
    """One tf_keras application, 10 classes, at `size`x`size` (their preprocessing layers included)."""
    return _app(name, size)


@_deterministic
def kws_dscnn(frames=49, coeffs=10, classes=12, seed=0):
    """Keyword spotting as in the DS-CNN paper: MFCCs in, a strided conv, four depthwise-separable blocks."""
    L = keras().layers
    inp = L.Input((frames, coeffs, 1))
    x = L.ReLU()(L.BatchNormalization()(L.Conv2D(64, (10, 4), strides=2, padding="same")(inp)))
    for _ in range(4):
        x = L.ReLU()(L.BatchNormalization()(L.DepthwiseConv2D(3, padding="same")(x)))
        x = L.ReLU()(L.BatchNormalization()(L.Conv2D(64, 1)(x)))
    x = L.GlobalAveragePooling2D()(x)
    return keras().Model(inp, L.Softmax()(L.Dense(classes)(x)))


@_deterministic
def transformer_block(tokens=16, width=32, heads=2, classes=10, seed=0):
    """A pre-norm transformer encoder block: LayerNorm, multi-head self-attention, residual, GELU MLP."""
    L = keras().layers
    inp = L.Input((tokens, width))
    h = L.LayerNormalization()(inp)
    h = L.MultiHeadAttention(num_heads=heads, key_dim=width // heads)(h, h)
    x = L.Add()([inp, h])
    h = L.LayerNormalization()(x)
    h = L.Dense(width, activation="gelu")(L.Dense(2 * width)(h))
    x = L.Add()([x, h])
    return keras().Model(inp, L.Dense(classes)(L.GlobalAveragePooling1D()(x)))


@_deterministic
def unet(size=32, seed=0):
    """Two levels down, a transposed conv and a bilinear upsampling back up, skip connections concatenated."""
    L = keras().layers
    inp = L.Input((size, size, 3))
    d1 = L.Conv2D(16, 3, padding="same", activation="relu")(inp)
    d2 = L.Conv2D(32, 3, padding="same", activation="relu")(L.MaxPooling2D()(d1))
    bottom = L.Conv2D(64, 3, padding="same", activation="relu")(L.MaxPooling2D()(d2))
    u2 = L.Conv2DTranspose(32, 2, strides=2, padding="same")(bottom)
    u2 = L.Conv2D(32, 3, padding="same", activation="relu")(L.Concatenate()([u2, d2]))
    u1 = L.UpSampling2D(interpolation="bilinear")(u2)
    u1 = L.Conv2D(16, 3, padding="same", activation="relu")(L.Concatenate()([u1, d1]))
    return keras().Model(inp, L.Conv2D(1, 1, activation="sigmoid")(u1))


@_deterministic
def yolo_head(size=64, anchors=3, classes=4, seed=0):
    """A small backbone with two output scales (nearest upsampling + concat), each reshaped to boxes and
    squashed by sigmoid, the two scales concatenated: the shape of YOLO-style detector heads."""
    L = keras().layers
    inp = L.Input((size, size, 3))
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inp)
    c4 = L.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    c5 = L.Conv2D(64, 3, strides=2, padding="same", activation="relu")(c4)
    p4 = L.Concatenate()([L.UpSampling2D()(L.Conv2D(32, 1)(c5)), c4])
    outs = []
    for feat in (c5, p4):
        y = L.Conv2D(anchors * (5 + classes), 1)(feat)
        outs.append(L.Activation("sigmoid")(L.Reshape((-1, 5 + classes))(y)))
    return keras().Model(inp, L.Concatenate(axis=1)(outs))


@_deterministic
def lstm(steps=20, features=8, units=16, classes=4, seed=0):
    """An LSTM over a short sequence with batch 1 (the shape on-device streaming models use)."""
    L = keras().layers
    inp = L.Input((steps, features), batch_size=1)
    return keras().Model(inp, L.Dense(classes)(L.LSTM(units)(inp)))


# name -> (builder, kwargs). Keras applications at 64x64 (Xception needs 71: 72) keep conversions to seconds.
ZOO = {
    "mobilenet_v3_small": (application, {"name": "MobileNetV3Small"}),
    "mobilenet_v3_large": (application, {"name": "MobileNetV3Large"}),
    "efficientnet_b0": (application, {"name": "EfficientNetB0"}),
    "resnet50": (application, {"name": "ResNet50"}),
    "densenet121": (application, {"name": "DenseNet121"}),
    "nasnet_mobile": (application, {"name": "NASNetMobile"}),
    "xception": (application, {"name": "Xception", "size": 72}),
    "convnext_tiny": (application, {"name": "ConvNeXtTiny"}),
    "kws_dscnn": (kws_dscnn, {}),
    "transformer_block": (transformer_block, {}),
    "unet": (unet, {}),
    "yolo_head": (yolo_head, {}),
    "lstm": (lstm, {}),
}
NAMES = tuple(ZOO)


def tflite(name: str) -> bytes:
    """The zoo entry `name` as a full-int8 .tflite (int8 I/O), converted once and cached."""
    builder, kwargs = ZOO[name]
    return modelkit.cached("int8", builder, **kwargs)
