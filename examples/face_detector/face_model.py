"""A tiny BlazeFace-like detector, exported the way MediaPipe ships its models.

The network: 64x64 RGB in [-1, 1] -> conv s2 -> BlazeBlocks (depthwise 3x3 + pointwise 1x1 + residual ADD)
-> two heads over an 8x8 anchor grid (2 anchors a cell): `classificators` [1, 128, 1] (face logit) and
`regressors` [1, 128, 4] (box centre offset and size). It is trained for a few seconds on synthetic
"faces" (bright ellipses on textured noise), so the int8 ranges calibrate on something with structure.

Then the float .tflite is rewritten as MediaPipe's files look: no SignatureDef, and op codes only in the
deprecated 8-bit field (the converters MediaPipe used predate the 32-bit one). The fp16 variant stores its
weights as FLOAT16 behind DEQUANTIZE ops, as `--quantize float16` exports do.
"""

from __future__ import annotations

import numpy as np

SIZE = 64
GRID = 8
ANCHORS = 2


def synthetic_faces(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images with one bright ellipse each (x), the anchor it belongs to (cls [n, 128]) and its box ([n, 4])."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    x = rng.normal(0.0, 0.25, (n, SIZE, SIZE, 3)).astype(np.float32)
    cls = np.zeros((n, GRID * GRID * ANCHORS), np.float32)
    box = np.zeros((n, 4), np.float32)
    for i in range(n):
        cx, cy = rng.uniform(0.15, 0.85, 2)
        r = rng.uniform(0.06, 0.14)
        face = ((xx - cx) / r) ** 2 + ((yy - cy) / (1.3 * r)) ** 2 <= 1.0
        x[i][face] += rng.uniform(0.8, 1.2, 3)
        cell = int(cy * GRID) * GRID + int(cx * GRID)
        cls[i, cell * ANCHORS + (0 if r < 0.1 else 1)] = 1.0
        box[i] = (cx, cy, 2 * r, 2.6 * r)
    return np.clip(x, -1.0, 1.0), cls, box


def build(seed: int = 0):
    from edgelift._tf import keras, tensorflow

    tf = tensorflow()
    tf.random.set_seed(seed)
    k = keras()
    layers = k.layers

    def blaze_block(h, filters, stride):
        y = layers.DepthwiseConv2D(3, strides=stride, padding="same")(h)
        y = layers.Conv2D(filters, 1)(y)
        if stride == 2:
            h = layers.MaxPooling2D(2)(h)
        if h.shape[-1] != filters:
            h = layers.Conv2D(filters, 1)(h)
        return layers.ReLU()(layers.Add()([y, h]))

    inp = layers.Input((SIZE, SIZE, 3), batch_size=1, name="input")
    h = layers.ReLU()(layers.Conv2D(16, 3, strides=2, padding="same")(inp))  # 32x32
    h = blaze_block(h, 16, 1)
    h = blaze_block(h, 24, 2)  # 16x16
    h = blaze_block(h, 32, 2)  # 8x8
    h = blaze_block(h, 32, 1)
    cls = layers.Reshape((GRID * GRID * ANCHORS, 1), name="classificators")(layers.Conv2D(ANCHORS, 1)(h))
    reg = layers.Reshape((GRID * GRID * ANCHORS, 4), name="regressors")(layers.Conv2D(ANCHORS * 4, 1)(h))
    return k.Model(inp, [reg, cls], name="face_detector")


def train(model, epochs: int = 3, seed: int = 0):
    """A few epochs on synthetic faces: face logits per anchor, box for the true anchor."""
    from edgelift._tf import keras, tensorflow

    tf = tensorflow()
    x, cls, box = synthetic_faces(1500, seed)
    reg = np.zeros((len(x), GRID * GRID * ANCHORS, 4), np.float32)
    reg[np.arange(len(x)), cls.argmax(1)] = box
    # the model's batch is fixed at 1 (as exported); train through a batch-free twin sharing the weights
    twin_in = keras().layers.Input((SIZE, SIZE, 3))
    twin = keras().Model(twin_in, model(twin_in))
    twin.compile(optimizer=keras().optimizers.Adam(3e-3),
                 loss=[lambda t, p: tf.reduce_mean(tf.square(t - p)) * 10.0,
                       keras().losses.BinaryCrossentropy(from_logits=True)])
    twin.fit(x, [reg, cls[..., None]], epochs=epochs, batch_size=32, verbose=0)
    return model


def float_tflite(model, fp16: bool = False) -> bytes:
    from edgelift._tf import tensorflow

    tf = tensorflow()
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if fp16:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    return conv.convert()


def mediapipe_style(content: bytes) -> bytes:
    """Drop the SignatureDefs, keep op codes only in the deprecated 8-bit field and name the I/O tensors as
    MediaPipe's files do."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(content, 0)
    m.signatureDefs = None
    sg = m.subgraphs[0]
    sg.tensors[sg.inputs[0]].name = "input"
    for t in sg.outputs:  # MediaPipe's detector output names, told apart by their last dimension
        sg.tensors[t].name = "regressors" if sg.tensors[t].shape[-1] == 4 else "classificators"
    for code in m.operatorCodes:
        b = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        if b < 127:  # what a pre-2.4 converter wrote: the 32-bit field absent (reads as 0 = ADD)
            code.deprecatedBuiltinCode, code.builtinCode = b, 0
    builder = flatbuffers.Builder(len(content) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
