"""Every lowered int8 op, bit-exact against LiteRT 2.3's builtin kernels, over varied shapes and options.

Models are converted by TensorFlow's own converter (tests/modelkit, cached on disk). Inputs are random int8
over the full range; 40 samples per case through batch 16, so the padded last batch is exercised too.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import artefacts, modelkit
from tests.gpu.conftest import assert_identical, litert_reference, random_int8

artefacts.jax()

from edgelift.delegates.gpu import GpuEngine  # noqa: E402
from edgelift.tflite_model import load  # noqa: E402

N = 40


def _draw_conv_cases(n: int, seed: int = 11):
    """Randomized conv geometries (seeded, so a failure reproduces): odd sizes, strides, dilation, padding."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        k = int(rng.choice([1, 2, 3, 5]))
        stride = int(rng.choice([1, 2, 3]))
        dilation = 1 if stride > 1 or k == 1 else int(rng.choice([1, 2]))
        size = int(rng.integers(max(k * dilation, 3), 14))
        cases.append(dict(shape=(size, int(rng.integers(size - 2, size + 3)), int(rng.integers(1, 9))),
                          filters=int(rng.integers(1, 17)), kernel=k, strides=stride, dilation=dilation,
                          padding=str(rng.choice(["same", "valid"])), seed=int(rng.integers(1000))))
    return cases


CONV = [
    dict(),  # 9x9x3 -> 8, 3x3 same
    dict(shape=(11, 11, 5), filters=7, kernel=3, strides=2, padding="same", activation="relu"),
    dict(shape=(8, 8, 4), filters=5, kernel=1, activation="relu6"),
    dict(shape=(7, 10, 130), filters=9, kernel=3, padding="valid"),  # 1170 terms: > one float32 chunk
    *_draw_conv_cases(5),
]
DEPTHWISE = [
    dict(),
    dict(shape=(10, 10, 5), multiplier=2, strides=2, padding="same"),
    dict(shape=(9, 7, 6), kernel=5, padding="valid", activation="relu6"),
    dict(shape=(12, 12, 3), kernel=3, dilation=2, multiplier=3),
    dict(shape=(6, 6, 16), kernel=3, strides=2, padding="valid", activation="relu"),
]


def _run(model: bytes, n: int = N, seed: int = 0, **engine_kw):
    eng = GpuEngine(model, batch=16, **engine_kw)
    xs = [random_int8(spec.shape[1:], n, seed + i) for i, spec in enumerate(eng.inputs)]
    got = eng.predict_raw(xs)
    expected = litert_reference(model, xs)
    for k, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert_identical(g, e, f"output {k} of {load(model).op_histogram()}")
    return eng


@pytest.mark.parametrize("accumulate", ["int", "f32"])
@pytest.mark.parametrize("kw", CONV, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_conv_2d(kw, accumulate):
    _run(modelkit.cached("int8", modelkit.conv2d, **kw), accumulate=accumulate)


@pytest.mark.parametrize("depthwise", ["taps", "conv"])
@pytest.mark.parametrize("kw", DEPTHWISE, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_depthwise_conv_2d(kw, depthwise):
    accumulate = "f32" if depthwise == "conv" else "int"
    _run(modelkit.cached("int8", modelkit.depthwise_conv2d, **kw), depthwise=depthwise, accumulate=accumulate)


@pytest.mark.parametrize("accumulate", ["int", "f32"])
@pytest.mark.parametrize("kw", [dict(), dict(features=37, units=11, activation="relu"),
                                dict(features=1300, units=5)], ids=["16x10", "37x11-relu", "1300x5"])
def test_fully_connected(kw, accumulate):
    _run(modelkit.cached("int8", modelkit.dense, **kw), accumulate=accumulate)


@pytest.mark.parametrize("kw", [dict(op="add"), dict(op="add", broadcast=True), dict(op="add", activation="relu"),
                                dict(op="mul"), dict(op="mul", shape=(4, 6, 9), broadcast=True)],
                         ids=["add", "add-broadcast", "add-relu", "mul", "mul-broadcast"])
def test_binary(kw):
    _run(modelkit.cached("int8", modelkit.binary, **kw))


@pytest.mark.parametrize("args", [("max", dict()), ("max", dict(size=3, strides=2, padding="same")),
                                  ("avg", dict()), ("avg", dict(shape=(10, 7, 3), size=3, strides=2, padding="same")),
                                  ("avg", dict(shape=(9, 9, 4), size=(2, 3), strides=1, padding="same"))],
                         ids=["max2", "max3-same", "avg2", "avg3-same", "avg2x3-same"])
def test_pool(args):
    kind, kw = args
    _run(modelkit.cached("int8", modelkit.pool, kind, **kw))


@pytest.mark.parametrize("kw", [dict(), dict(shape=(5, 5, 7), keepdims=True), dict(shape=(3, 4, 10)),
                                dict(shape=(6, 6, 5), keepdims=True)],
                         ids=["7x7", "5x5-keepdims", "3x4", "6x6-keepdims"])
def test_mean(kw):
    _run(modelkit.cached("int8", modelkit.mean, **kw), n=64)


def test_pad_and_concatenation():
    _run(modelkit.cached("int8", modelkit.pad, shape=(5, 6, 3), padding=((1, 2), (0, 3))))
    _run(modelkit.cached("int8", modelkit.concat, channels=(3, 4, 1)))


@pytest.mark.parametrize("kw", [dict(features=24, units=10), dict(features=12, units=1000)], ids=["10", "1000"])
def test_softmax(kw):
    _run(modelkit.cached("int8", modelkit.dense, activation="softmax", **kw))


@pytest.mark.parametrize("kind", ["hard_swish", "sigmoid"])
def test_hard_swish_and_logistic(kind):
    _run(modelkit.cached("int8", modelkit.activation, kind, shape=(6, 5, 7)), n=64)


@pytest.mark.parametrize("builder,kw", [(modelkit.conv2d, dict()), (modelkit.dense, dict(features=37, units=11))],
                         ids=["conv", "dense"])
def test_quantize_dequantize_float_io(builder, kw):
    """int8 core with float input/output (QUANTIZE and DEQUANTIZE in the graph): identical floats."""
    model = modelkit.cached("int8-floatio", builder, **kw)
    eng = GpuEngine(model, batch=16)
    spec = eng.inputs[0]
    assert spec.dtype == np.float32
    q = load(model).tensors[load(model).operators[0].outputs[0]]
    rng = np.random.default_rng(5)
    xs = rng.uniform(-1.5, 1.5, (N, *spec.shape[1:])).astype(np.float32)
    # values on the rounding boundaries of the QUANTIZE step (k + 1/2) * scale, where rounding mistakes show
    k = rng.integers(-130, 130, xs[: N // 2].shape)
    xs[: N // 2] = ((k + 0.5) * np.float32(q.scales[0])).astype(np.float32)
    got = eng.predict_raw(xs)[0]
    assert_identical(got, litert_reference(model, xs)[0], "float-io model")


def test_multi_input_model():
    from edgelift._tf import keras

    L = keras().layers
    a, b = L.Input((4, 4, 3)), L.Input((4, 4, 3))
    model = modelkit.int8_tflite(keras().Model([a, b], L.Add()([L.Conv2D(3, 1)(a), b])))
    eng = _run(model)
    assert len(eng.inputs) == 2


def test_small_resnet_and_mobilenet_v1_exact():
    _run(modelkit.cached("int8", modelkit.small_resnet), n=24)
    _run(modelkit.cached("int8", modelkit.mobilenet_v1, size=32, alpha=0.25), n=24)


def test_fully_connected_per_tensor_weights():
    """TF 2.21 quantizes Dense per channel; per-tensor weights (older converters, or this switch) take
    TFLite's other multiplier formula (input*filter scale product in float)."""
    from edgelift._tf import tensorflow

    tf = tensorflow()
    km = modelkit.dense(features=37, units=13, activation="relu")
    conv = tf.lite.TFLiteConverter.from_keras_model(km)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = modelkit.representative(km, 32, 0)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    model = conv.convert()
    m = load(model)
    assert m.tensors[m.operators[0].inputs[1]].scales.size == 1
    _run(model, n=256)


@pytest.mark.parametrize("accumulate", ["int", "f32"])
def test_batch_matmul_deep_in_both_accumulations(accumulate):
    from tests import opcatalogue as oc

    # k 1100 and 1030: past one float32 chunk (1024 terms), so "f32" sums two exact partial products
    nodes = (oc.Node("matmul", (3, 1100), (1100, 5)), oc.Node("matmul_adj_y", (2, 4, 1030), (2, 6, 1030)))
    sweep = oc.Sweep("deep", "BATCH_MATMUL", ((-0.4, 1.6), (-2.5, 0.7)), nodes)
    _run(oc.convert(sweep), accumulate=accumulate)


def test_fill_of_a_run_time_value():
    """FILL whose value is an activation (a FILL of a constant is folded): the value broadcast, as builtin."""
    from edgelift._tf import keras, tensorflow

    tf = tensorflow()
    L = keras().layers
    inp = L.Input((4, 5, 3))
    x = L.Conv2D(3, 1)(inp)
    model = modelkit.int8_tflite(keras().Model(inp, L.Lambda(lambda t: t + tf.fill([1, 4, 5, 3], t[0, 1, 2, 0]))(x)))
    assert load(model).op_histogram().get("FILL") == 1
    _run(model)


def test_transpose_conv_per_tensor_weights():
    """The converter quantizes Conv2DTranspose per channel; per-tensor weights take the same multiplier per
    channel (PopulateConvolutionQuantizationParams broadcasts the one scale)."""
    from edgelift._tf import keras, tensorflow

    tf = tensorflow()
    L = keras().layers
    inp = L.Input((5, 6, 4))
    km = keras().Model(inp, L.Conv2DTranspose(11, 3, strides=2, padding="same")(L.Conv2D(4, 1)(inp)))
    conv = tf.lite.TFLiteConverter.from_keras_model(km)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = modelkit.representative(km, 32, 0)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    conv._experimental_disable_per_channel = True
    model = conv.convert()
    m = load(model)
    op = next(o for o in m.operators if o.op_name == "TRANSPOSE_CONV")
    assert m.tensors[op.inputs[1]].scales.size == 1
    _run(model, n=64)
