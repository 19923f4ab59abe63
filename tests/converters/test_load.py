"""Model loading: .keras, .h5, SavedModel directories, in-memory models, and Keras 3 rebuilt in tf_keras."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift._tf import keras, tensorflow
from edgelift.converters.load import load_model, rebuild_keras3, working_copy
from edgelift.errors import UnsupportedModelError
from tests.converters.conftest import arrays, tiny


def same_outputs(a, b, x):
    np.testing.assert_allclose(np.asarray(a(x, training=False)), np.asarray(b(x, training=False)), atol=1e-5)


@pytest.mark.parametrize("fmt", ["keras", "h5", "savedmodel"])
def test_file_formats(tmp_path, fmt):
    m = tiny()
    path = tmp_path / ("m.keras" if fmt == "keras" else "m.h5" if fmt == "h5" else "sm")
    if fmt == "savedmodel":
        keras().models.save_model(m, str(path), save_format="tf")
    else:
        m.save(path)
    loaded = load_model(path)
    assert loaded.kind == fmt and not loaded.keras3
    assert isinstance(loaded.keras_model, keras().Model)
    same_outputs(m, loaded.keras_model, arrays(4)[0])


def test_in_memory_model_is_not_modified(model):
    loaded = load_model(model)
    assert loaded.keras_model is model
    w = model.get_layer("c2").kernel.numpy().copy()
    copy = working_copy(model)
    copy.get_layer("c2").kernel.assign(np.zeros_like(w))
    np.testing.assert_array_equal(model.get_layer("c2").kernel.numpy(), w)


def _keras3():
    tensorflow()
    import keras as k3

    return k3


def _k3_functional():
    k3 = _keras3()
    L = k3.layers
    inp = k3.Input((8, 8, 4))
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")(inp)
    y = L.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = L.Add(name="add")([x, y])
    x = L.BatchNormalization(name="bn")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dense(16, activation="relu", name="d1")(x)
    model = k3.Model(inp, L.Dense(4, activation="softmax", name="logits")(x))
    # non-trivial batch-norm statistics so a wrong weight order would show
    bn = model.get_layer("bn")
    bn.set_weights([w + np.linspace(0.1, 0.9, w.size).astype(np.float32) for w in bn.get_weights()])
    return model


def test_keras3_functional_rebuilt_faithfully():
    m3 = _k3_functional()
    m2 = rebuild_keras3(m3)
    assert isinstance(m2, keras().Model)
    assert [type(layer).__name__ for layer in m2.layers][1:] == [type(layer).__name__ for layer in m3.layers][1:]
    x = arrays(4)[0]
    np.testing.assert_allclose(np.asarray(m3(x)), m2(x).numpy(), atol=1e-5)


def test_keras3_file_is_rebuilt(tmp_path):
    k3 = _keras3()
    m3 = k3.Sequential([k3.Input((8, 8, 4)), k3.layers.Conv2D(4, 3, name="c"), k3.layers.Flatten(),
                        k3.layers.Dense(3, name="out")])
    m3.save(tmp_path / "k3.keras")
    loaded = load_model(tmp_path / "k3.keras")
    assert loaded.keras3 and loaded.keras_model is not None
    x = arrays(3)[0]
    np.testing.assert_allclose(np.asarray(m3(x)), loaded.keras_model(x).numpy(), atol=1e-5)


def test_keras3_blocking_layer_is_named_and_quantization_still_works(tmp_path):
    k3 = _keras3()
    m3 = k3.Sequential([k3.Input((8, 8, 4)), k3.layers.Lambda(lambda t: t * 2.0, name="double"),
                        k3.layers.Flatten(), k3.layers.Dense(3, name="out")])
    loaded = load_model(m3)
    try:
        assert loaded.keras_model is None and "layer 'double' (Lambda)" in loaded.blocker
        with pytest.raises(UnsupportedModelError, match=r"pruning needs a tf_keras model.*layer 'double' \(Lambda\)"):
            loaded.require_keras("pruning")
    finally:
        loaded.close()
    import edgelift

    x = arrays(32)[0]
    res = edgelift.convert(m3, tmp_path / "q.tflite", quantize="int8", calibration=x)
    from edgelift.device.runtime import load_interpreter

    got = load_interpreter(res.output.read_bytes()).predict(x[:8])[0]
    want = np.asarray(m3(x[:8]))
    assert np.max(np.abs(got - want)) < 0.05 * (np.max(np.abs(want)) + 1e-6) + 0.05  # int8 rounding


def test_plain_savedmodel_quantizes_but_cannot_be_pruned(tmp_path):
    tf = tensorflow()

    class Scale(tf.Module):
        def __init__(self):
            self.w = tf.Variable(np.linspace(-1, 1, 16 * 8).reshape(16, 8).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 16], tf.float32)])
        def __call__(self, x):
            return tf.nn.relu(tf.matmul(x, self.w))

    mod = Scale()
    tf.saved_model.save(mod, str(tmp_path / "sm"), signatures=mod.__call__)
    import edgelift

    x = np.random.default_rng(0).uniform(-1, 1, (32, 16)).astype(np.float32)
    res = edgelift.convert(tmp_path / "sm", tmp_path / "q.tflite", calibration=x, io="float32")
    from edgelift.device.runtime import load_interpreter

    got = load_interpreter(res.output).predict(x)[0]
    np.testing.assert_allclose(got, mod(x).numpy(), atol=0.05)  # int8: within a few quantization steps
    blocked = "pruning needs a tf_keras model.*(carries no Keras model|no tf_keras metadata)"
    with pytest.raises(UnsupportedModelError, match=blocked):
        edgelift.convert(tmp_path / "sm", tmp_path / "p.tflite", prune=0.5, quantize="none")
    assert not (tmp_path / "p.tflite").exists()


def test_subclassed_model_quantizes_but_cannot_be_pruned(tmp_path):
    import edgelift

    class Sub(keras().Model):
        def __init__(self):
            super().__init__(name="sub")
            self.d = keras().layers.Dense(4, name="d")

        def call(self, x):
            return self.d(x)

    m = Sub()
    x = np.random.default_rng(0).uniform(-1, 1, (32, 16)).astype(np.float32)
    m(x[:1])
    res = edgelift.convert(m, tmp_path / "q.tflite", quantize="none")
    from edgelift.device.runtime import load_interpreter

    np.testing.assert_allclose(load_interpreter(res.output).predict(x)[0], m(x).numpy(), atol=1e-5)  # float32
    with pytest.raises(UnsupportedModelError, match=r"model 'sub' \(Sub\) cannot be cloned for pruning"):
        edgelift.convert(m, tmp_path / "p.tflite", prune=0.5, quantize="none")
    assert not (tmp_path / "p.tflite").exists()
