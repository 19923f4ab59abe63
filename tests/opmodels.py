"""The models of the op catalogue (tests/opcatalogue.py): one Keras model per sweep, converted to int8 by
TensorFlow's own converter and cached on disk.

Where the converter never emits an op on its own in int8 (it keeps ELU in float between a DEQUANTIZE and a
QUANTIZE; an int8 -> int8 QUANTIZE appears only between ops whose scales conflict), the converter's model is
rewritten into the one int8 node the builtin kernel would run (`rewrite_single_op`): the same tensors and
quantization, the sandwich replaced by the op itself. Other quantizers emit such nodes; the kernels are the
same.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from tests.opcatalogue import CACHE, Sweep, _input_name, matmul_constant, matmul_flags


def _resizes(tf, method: str) -> dict:
    v1 = tf.compat.v1.image
    legacy = v1.resize_nearest_neighbor if method == "nearest" else v1.resize_bilinear
    return {
        "up2": lambda t: tf.image.resize(t, (10, 12), method),
        "size7x4": lambda t: tf.image.resize(t, (7, 4), method),
        "align": lambda t: legacy(t, (11, 9), align_corners=True),
        "legacy": lambda t: legacy(t, (9, 13)),
        "down": lambda t: tf.image.resize(t, (3, 2), method),
    }


def _moves(tf) -> dict:
    """Data-movement variants of the catalogue (tests/opcatalogue.py), as Keras code writes them."""
    return {
        "TRANSPOSE": {"nchw": lambda t: tf.transpose(t, (0, 3, 1, 2)), "hw": lambda t: tf.transpose(t, (0, 2, 1, 3)),
                      "heads": lambda t: tf.transpose(t, (0, 2, 1, 3)), "rank3": lambda t: tf.transpose(t, (0, 2, 1))},
        "STRIDED_SLICE": {"steps": lambda t: t[:, 1::2, ::-1, 2:], "shrink": lambda t: t[:, ::3, 2, :],
                          "negative": lambda t: t[:, -2:-8:-2, 1:-1, :5], "last": lambda t: t[:, -1]},
        "SLICE": {"box": lambda t: tf.slice(t, (0, 1, 2, 3), (-1, 5, 4, -1)),
                  "tail": lambda t: tf.slice(t, (0, 3, 4), (-1, -1, 5))},
        "EXPAND_DIMS": {"mid": lambda t: tf.expand_dims(t, 2)},
        "SQUEEZE": {"mid": lambda t: tf.squeeze(t, 2)},
        "DEPTH_TO_SPACE": {f"b{b}": lambda t, b=b: tf.nn.depth_to_space(t, b) for b in (2, 3)},
        "SPACE_TO_DEPTH": {f"b{b}": lambda t, b=b: tf.nn.space_to_depth(t, b) for b in (2, 3)},
        "SPLIT": {"three": lambda t: tf.split(t, 3, axis=2), "channels": lambda t: tf.split(t, 4, axis=-1)},
        **{op: _resizes(tf, method) for op, method in (("RESIZE_NEAREST_NEIGHBOR", "nearest"),
                                                        ("RESIZE_BILINEAR", "bilinear"))},
        "GATHER": {"rows": lambda t: tf.gather(t, [2, 0, 3, 3, 1], axis=1),
                   "channels": lambda t: tf.gather(t, [6, 0, 5, 1, 1, 2], axis=3),
                   "table": lambda t: tf.gather(t, [[0, 9], [4, 4], [7, 2]], axis=2)},
        "REDUCE_MAX": {"spatial": lambda t: tf.reduce_max(t, axis=[1, 2], keepdims=True),
                       "channels": lambda t: tf.reduce_max(t, axis=-1), "rows": lambda t: tf.reduce_max(t, axis=1)},
        "SPLIT_V": {"sizes": lambda t: tf.split(t, [2, 5, -1], axis=1), "last": lambda t: tf.split(t, [3, 7], axis=2)},
    }


def _layers(tf, keras) -> dict:
    """Reductions and weighted layers of the catalogue (tests/opcatalogue.py LAYER_SWEEPS): seeded random
    weights and biases, so every filter tap and channel multiplier differs."""
    L = keras.layers

    def init(seed):
        return {"kernel_initializer": keras.initializers.RandomUniform(-0.5, 0.5, seed=seed),
                "bias_initializer": keras.initializers.RandomUniform(-0.3, 0.3, seed=seed + 100)}

    def mean(axes, keep):
        return lambda: L.Lambda(lambda t: tf.reduce_mean(t, axis=axes, keepdims=keep))

    def rsum(axes, keep):
        return lambda: L.Lambda(lambda t: tf.reduce_sum(t, axis=axes, keepdims=keep))

    return {
        "MEAN": {"channels_keep_samequant": mean(-1, True), "tokens_samequant": mean(1, False),
                 "channels_keep": mean(-1, True), "channels": mean(-1, False), "spatial_keep": mean([1, 2], True),
                 "spatial": mean([1, 2], False), "batch_spatial_keep": mean([0, 1, 2], True),
                 "tokens": mean(1, False), "rank2": mean(1, True)},
        # SUM: the suffix _samequant / _tightout rewrites the output quantization (convert)
        **{"SUM": {f"{name}{q}": rsum(axes, keep) for name, axes, keep in (
            ("channels", -1, False), ("channels_keep", -1, True), ("spatial_keep", [1, 2], True),
            ("spatial", [1, 2], False), ("all", [1, 2, 3], False), ("all_keep", [0, 1, 2, 3], True),
            ("negative", [-3, -1], True), ("tokens", 1, False), ("rank2", 1, True))
            for q in ("", "_samequant", "_tightout")}},
        "TRANSPOSE_CONV": {
            "s2_same_c20": lambda: L.Conv2DTranspose(20, 3, strides=2, padding="same", **init(1)),
            "s2_valid_c13": lambda: L.Conv2DTranspose(13, 3, strides=2, padding="valid", **init(2)),
            "k4_s1_same": lambda: L.Conv2DTranspose(8, 4, strides=1, padding="same", **init(3)),
            "k2_s3_valid": lambda: L.Conv2DTranspose(5, 2, strides=3, padding="valid", **init(4)),
            "s21_same_relu": lambda: L.Conv2DTranspose(16, 3, strides=(2, 1), padding="same", activation="relu",
                                                       **init(5)),
            "k2_s2_nobias": lambda: L.Conv2DTranspose(11, 2, strides=2, use_bias=False, **init(6)),
        },
        "CONV_2D": {
            "groups_c": lambda: L.Conv2D(12, 3, padding="same", groups=12, **init(7)),          # one channel a group
            "groups_c_k7": lambda: L.Conv2D(12, 7, padding="same", groups=12, **init(8)),       # ConvNeXt's
            "groups_c_x2": lambda: L.Conv2D(24, 3, padding="valid", groups=12, **init(9)),      # 2 filters a group
            "groups_4": lambda: L.Conv2D(20, 3, strides=2, padding="same", groups=4, **init(10)),  # 3 channels a group
            "groups_2_relu": lambda: L.Conv2D(10, 1, groups=2, activation="relu", **init(11)),
        },
    }


def _unary_fn(sweep: Sweep):
    from edgelift._tf import keras, tensorflow

    tf = tensorflow()
    L = keras().layers
    op, p = sweep.op, sweep.param
    moves = _moves(tf)
    if op in moves:
        return L.Lambda(moves[op][p])
    layers = _layers(tf, keras())
    if op in layers:
        return layers[op][p]()
    table = {
        "LOGISTIC": lambda: L.Lambda(tf.sigmoid),
        "HARD_SWISH": lambda: L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0),
        "SOFTMAX": lambda: L.Softmax(),
        "RELU": lambda: L.ReLU(),
        "RELU6": lambda: L.Lambda(tf.nn.relu6),
        "RELU_N1_TO_1": lambda: L.Lambda(lambda t: tf.clip_by_value(t, -1.0, 1.0)),
        "LEAKY_RELU": lambda: L.LeakyReLU(float(p)),
        "TANH": lambda: L.Activation("tanh"),
        "GELU": lambda: L.Lambda(lambda t: tf.nn.gelu(t, approximate=p == "approximate")),
        "ELU": lambda: L.ELU(),
        "RSQRT": lambda: L.Lambda(tf.math.rsqrt),
        # QUANTIZE and DEQUANTIZE: a TANH node, rewritten (rewrite_single_op)
        "QUANTIZE": lambda: L.Activation("tanh"),
        "DEQUANTIZE": lambda: L.Activation("tanh"),
        "PRELU": lambda: L.PReLU(alpha_initializer=keras().initializers.RandomUniform(-0.6, 0.4, seed=1),
                                 shared_axes={"channel": [1], "shared": [1, 2], "full": None}[p]),
    }
    return table[op]()


def _binary_fn(sweep: Sweep):
    from edgelift._tf import tensorflow

    tf = tensorflow()
    act = {None: lambda t: t, "relu": tf.nn.relu, "relu6": tf.nn.relu6}[sweep.activation]
    f = {"ADD": lambda a, b: a + b, "MUL": lambda a, b: a * b, "SUB": lambda a, b: a - b,
         "SQUARED_DIFFERENCE": tf.math.squared_difference, "MAXIMUM": tf.maximum, "MINIMUM": tf.minimum}[sweep.op]
    return lambda t: act(f(t[0], t[1]))


def _matmul_node(sweep: Sweep, node, a, inputs: list, name_b: str):
    """One BATCH_MATMUL (tf.matmul with the node's adjoint flags): of two inputs, or of `a` and a constant."""
    from edgelift._tf import keras, tensorflow

    tf, L = tensorflow(), keras().layers
    adj_x, adj_y = matmul_flags(node)
    if node.kind.startswith("const_"):
        w = matmul_constant(sweep, node)
        return L.Lambda(lambda t: tf.matmul(t, tf.constant(w), adjoint_a=adj_x, adjoint_b=adj_y))(a)
    b = L.Input(node.b_shape, name=name_b)
    inputs.append(b)
    return L.Lambda(lambda t: tf.matmul(t[0], t[1], adjoint_a=adj_x, adjoint_b=adj_y))([a, b])


def keras_model(sweep: Sweep):
    from edgelift._tf import keras

    L = keras().layers
    inputs, outputs = [], []
    for k, node in enumerate(sweep.nodes):
        a = L.Input(node.a_shape, name=_input_name(k, "a"))
        inputs.append(a)
        if sweep.op == "BATCH_MATMUL":
            outputs.append(_matmul_node(sweep, node, a, inputs, _input_name(k, "b")))
        elif node.b_shape is not None:
            b = L.Input(node.b_shape, name=_input_name(k, "b"))
            inputs.append(b)
            outputs.append(L.Lambda(_binary_fn(sweep))([a, b]))
        else:
            y = _unary_fn(sweep)(a)
            outputs.extend(y if isinstance(y, list | tuple) else [y])  # SPLIT: one node, several outputs
    return keras().Model(inputs, outputs)


def rewrite_single_op(blob: bytes, op_name: str, out_range: tuple[float, float] | None = None,
                      float_input: bool = False, float_output: bool = False, squeeze_dims=None) -> bytes:
    """The converter's one-node model (possibly DEQUANTIZE -> op -> QUANTIZE) as one `op_name` node from the
    model's int8 input to its int8 output; out_range: give the output the scale and zero point the converter
    computes for that float range (QUANTIZE's requantization); float_input / float_output: make that end a
    float32 tensor (QUANTIZE and DEQUANTIZE at a model's float edges); squeeze_dims: a SQUEEZE node's axes
    (the converter turns a static-shape SQUEEZE into a RESHAPE)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sg = m.subgraphs[0]
    code = getattr(schema.BuiltinOperator, op_name)
    index = next((i for i, c in enumerate(m.operatorCodes) if max(c.builtinCode, c.deprecatedBuiltinCode) == code),
                 None)
    if index is None:
        oc = schema.OperatorCodeT()
        oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 1
        m.operatorCodes.append(oc)
        index = len(m.operatorCodes) - 1
    op = schema.OperatorT()
    op.opcodeIndex = index
    op.inputs, op.outputs = [int(sg.inputs[0])], [int(sg.outputs[0])]
    if squeeze_dims is not None:
        op.builtinOptionsType = schema.BuiltinOptions.SqueezeOptions
        op.builtinOptions = schema.SqueezeOptionsT()
        op.builtinOptions.squeezeDims = list(squeeze_dims)
    sg.operators = [op]
    if out_range is not None:
        lo, hi = out_range
        scale = np.float32((hi - lo) / 255.0)
        zp = int(np.clip(round(-128 - lo / float(scale)), -128, 127))
        q = sg.tensors[int(sg.outputs[0])].quantization
        q.scale, q.zeroPoint = [float(scale)], [zp]
    for flag, index in ((float_input, sg.inputs[0]), (float_output, sg.outputs[0])):
        if flag:
            t = sg.tensors[int(index)]
            t.type, t.quantization = schema.TensorType.FLOAT32, None
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def same_output_quantization(blob: bytes, scale_factor: float = 1.0, zero_point_shift: int = 0) -> bytes:
    """The one-node model with its output given its input's scale and zero point (a MEAN whose quantization
    does not change: the converter calibrates the output on its own range, so it never emits one); or that
    scale times scale_factor and that zero point plus zero_point_shift (a SUM whose output range is too narrow
    for its sums, so that they saturate)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sg = m.subgraphs[0]
    src, dst = sg.tensors[int(sg.inputs[0])].quantization, sg.tensors[int(sg.outputs[0])].quantization
    dst.scale = [float(np.float32(v * scale_factor)) for v in src.scale]
    dst.zeroPoint = [int(np.clip(v + zero_point_shift, -128, 127)) for v in src.zeroPoint]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def convert(sweep: Sweep) -> bytes:
    """The sweep's int8 model (int8 in/out), cached on disk under .cache/modelkit."""
    extra = [] if sweep.param is None and not sweep.written else [sweep.param, sweep.written]
    key = json.dumps(["opcatalogue-v1", sweep.op, sweep.name, sweep.ranges, sweep.activation,
                      [(n.kind, n.a_shape, n.b_shape) for n in sweep.nodes], *extra], default=str)
    path = CACHE / f"sweep-{sweep.id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.tflite"
    if path.exists():
        return path.read_bytes()
    from edgelift._tf import tensorflow

    tf = tensorflow()
    model = keras_model(sweep)
    rng = np.random.default_rng(0)
    ranges = [sweep.ranges[min(i % 2, len(sweep.ranges) - 1)] for i in range(len(model.inputs))]

    def data():
        for s in range(8):  # the range's two ends, then uniform samples
            yield {inp.name: np.full((1, *inp.shape[1:]), r[s], np.float32) if s < 2 else
                   rng.uniform(r[0], r[1], (1, *inp.shape[1:])).astype(np.float32)
                   for inp, r in zip(model.inputs, ranges, strict=True)}

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = data
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    blob = conv.convert()
    if sweep.written:
        requantize = sweep.op == "QUANTIZE" and sweep.param != "float"
        out_range = tuple(float(v) for v in str(sweep.param).split("_")) if requantize else None
        blob = rewrite_single_op(blob, sweep.op, out_range, float_input=sweep.param == "float",
                                 float_output=sweep.op == "DEQUANTIZE",
                                 squeeze_dims=[2] if sweep.op == "SQUEEZE" else None)
    if str(sweep.param).endswith("_samequant"):
        blob = same_output_quantization(blob)
    if str(sweep.param).endswith("_tightout"):
        blob = same_output_quantization(blob, 2.0, 5)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)
    return blob
