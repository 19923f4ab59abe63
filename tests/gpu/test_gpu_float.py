"""float32 models through the GPU path. XLA orders float reductions differently from TFLite's kernels, so
these compare within float32 rounding: |got - expected| <= 1e-5 + 1e-4 * |expected| (convolutions at
Precision.HIGHEST; sums of a few hundred products of values ~1 keep errors near 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from tests import artefacts, modelkit
from tests.gpu.conftest import litert_reference

artefacts.jax()

from edgelift.delegates.gpu import GpuEngine  # noqa: E402

CASES = {
    "conv": (modelkit.conv2d, (), dict(strides=2, activation="relu6")),
    "depthwise": (modelkit.depthwise_conv2d, (), dict(multiplier=2)),
    "dense-softmax": (modelkit.dense, (), dict(activation="softmax")),
    "add": (modelkit.binary, (), dict(op="add", broadcast=True)),
    "mul": (modelkit.binary, (), dict(op="mul")),
    "maxpool": (modelkit.pool, ("max",), dict(padding="same", size=3)),
    "avgpool": (modelkit.pool, ("avg",), dict(padding="same", size=3)),
    "mean": (modelkit.mean, (), dict()),
    "pad": (modelkit.pad, (), dict()),
    "concat": (modelkit.concat, (), dict()),
    "hard_swish": (modelkit.activation, ("hard_swish",), dict()),
    "sigmoid": (modelkit.activation, ("sigmoid",), dict()),
    "small_resnet": (modelkit.small_resnet, (), dict()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_float_model_within_tolerance(case):
    builder, args, kw = CASES[case]
    model = modelkit.cached("float", builder, *args, **kw)
    eng = GpuEngine(model, batch=8)
    xs = np.random.default_rng(4).uniform(-2, 2, (20, *eng.inputs[0].shape[1:])).astype(np.float32)
    (got,) = eng.predict(xs)
    (expected,) = litert_reference(model, xs)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"float {case}")


def test_float16_weights_are_widened_exactly():
    from edgelift._tf import tensorflow

    tf = tensorflow()
    conv = tf.lite.TFLiteConverter.from_keras_model(modelkit.conv2d(strides=2))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    model = conv.convert()
    from edgelift.tflite_model import load

    assert "DEQUANTIZE" in load(model).op_histogram()
    eng = GpuEngine(model, batch=8)
    xs = np.random.default_rng(2).uniform(-2, 2, (12, 9, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(eng.predict(xs)[0], litert_reference(model, xs)[0], rtol=1e-4, atol=1e-5)
