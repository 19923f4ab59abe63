"""Real shapes, not the file's: a dynamic-batch graph (Keras Dense on a 4-D tensor becomes SHAPE -> GATHER ->
REDUCE_PROD -> PACK -> RESHAPE -> FULLY_CONNECTED -> RESHAPE, with placeholder shapes stored in between) lowers
whole, its intermediate tensors get the shapes their arrays have, and it is exact at batch > 1."""

from __future__ import annotations

import pytest

from tests import modelkit
from tests.gpu.conftest import assert_identical, litert_reference, random_int8

pytest.importorskip("jax", reason="JAX is not installed (pip install 'edgelift[dev]')")

from edgelift.delegates.gpu import GpuEngine  # noqa: E402
from edgelift.tflite_model import load  # noqa: E402


def dense_on_feature_map(shape=(8, 8, 6), seed=0):
    """ConvNeXt's block in small: a depthwise-like grouped conv, a LayerNorm-like mean over channels, Dense
    layers on the 4-D map (the dynamic reshapes), and a transposed conv up."""
    from edgelift._tf import keras, tensorflow

    k = keras()
    tf = tensorflow()
    L = k.layers
    init = k.initializers.RandomUniform(-0.5, 0.5, seed=seed)
    inp = L.Input(shape)
    x = L.Conv2D(shape[-1], 3, padding="same", groups=shape[-1], kernel_initializer=init)(inp)
    x = L.Lambda(lambda t: t - tf.reduce_mean(t, axis=-1, keepdims=True))(x)
    x = L.Dense(16, activation="gelu", kernel_initializer=init)(x)
    x = L.Dense(6, kernel_initializer=init)(x)
    return k.Model(inp, L.Conv2DTranspose(5, 2, strides=2, kernel_initializer=init)(x))


@pytest.fixture(scope="module")
def model() -> bytes:
    return modelkit.cached("int8", dense_on_feature_map)


def test_placeholder_shapes_are_replaced_by_real_ones(model):
    stored = load(model)
    fcs = [op for op in stored.operators if op.op_name == "FULLY_CONNECTED"]
    assert fcs and "SHAPE" in stored.op_histogram()
    eng = GpuEngine(model, batch=1)
    for op in fcs:
        x = op.inputs[0]
        real = eng.lowered.model.tensors[x].shape
        assert real == (64, stored.tensors[op.inputs[1]].shape[1]), real  # 8 x 8 rows of the feature map
        assert stored.tensors[x].shape != real  # the file's is a placeholder


@pytest.mark.parametrize("batch", [1, 3])
def test_dynamic_batch_graph_is_exact_at_any_batch(model, batch):
    x = random_int8((8, 8, 6), 5, seed=batch)
    eng = GpuEngine(model, batch=batch)
    (got,) = eng.predict_raw(x)
    (want,) = litert_reference(model, x)
    assert_identical(got, want, f"batch {batch}")


def test_intermediate_tensors_come_back_in_their_real_shape(model):
    m = load(model)
    fc = next(op for op in m.operators if op.op_name == "FULLY_CONNECTED")
    x = random_int8((8, 8, 6), 2)
    (got,) = GpuEngine(model, batch=2, outputs=[fc.outputs[0]]).predict_raw(x)
    assert got.shape == (2, 64, 16)  # per sample as builtin holds it: no batch axis to drop
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model, experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    for k in range(2):
        it.set_tensor(m.inputs[0], x[k:k + 1])
        it.invoke()
        assert_identical(got[k], it.get_tensor(fc.outputs[0]), f"FULLY_CONNECTED output, sample {k}")
