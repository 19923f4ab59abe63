"""What a user sees when the GPU path cannot or should not run: one clear EdgeliftError, never a traceback
from inside JAX/XLA."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgelift.errors import DataError, InvalidArgumentError, InvalidModelError, UnsupportedModelError
from tests import artefacts, modelkit

artefacts.jax()

from edgelift.delegates.gpu import GpuEngine  # noqa: E402


def _reduce_min_model(nodes: int) -> bytes:
    """Convs each followed by an int8 REDUCE_MIN (an op the XLA path does not lower)."""
    from edgelift._tf import keras, tensorflow

    L = keras().layers
    inp = L.Input((5, 6, 3))
    x = inp
    for k in range(nodes):  # over rows, then columns (a second reduction over a size-1 axis would vanish)
        x = L.Lambda(lambda t, a=k + 1: tensorflow().reduce_min(t, axis=a, keepdims=True))(L.Conv2D(3, 1)(x))
    return modelkit.int8_tflite(keras().Model(inp, x))


def test_unsupported_op_names_op_and_node():
    with pytest.raises(UnsupportedModelError) as err:
        GpuEngine(_reduce_min_model(1))
    msg = str(err.value)
    assert re.search(r"node \d+ \(REDUCE_MIN\)", msg) and "--backend litert" in msg and "CONV_2D" in msg, msg


def test_every_unsupported_node_is_named():
    """Two nodes it cannot lower: both named in one error."""
    with pytest.raises(UnsupportedModelError, match=r"cannot lower 2 nodes exactly: node \d+ \(REDUCE_MIN\): "
                                                    r".*; node \d+ \(REDUCE_MIN\)"):
        GpuEngine(_reduce_min_model(2))


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"this is not a flatbuffer")
    with pytest.raises(InvalidModelError, match="not a TFLite flatbuffer"):
        GpuEngine(bad)


@pytest.fixture(scope="module")
def engine():
    return GpuEngine(modelkit.cached("int8", modelkit.conv2d), batch=4)


def test_wrong_dtype_for_predict_raw(engine):
    with pytest.raises(DataError, match=r"is int8, got float32 data.*predict\(\)"):
        engine.predict_raw(np.zeros((2, 9, 9, 3), np.float32))


def test_wrong_sample_shape(engine):
    with pytest.raises(DataError, match=r"samples of shape \(9, 9, 3\).*\(2, 8, 8, 3\)"):
        engine.predict_raw(np.zeros((2, 8, 8, 3), np.int8))


def test_wrong_number_of_inputs(engine):
    x = np.zeros((2, 9, 9, 3), np.int8)
    with pytest.raises(DataError, match="has 1 inputs, got 2"):
        engine.predict_raw([x, x])


@pytest.mark.parametrize("batch", [0, -3, 2.5, True])
def test_bad_batch(batch):
    with pytest.raises(InvalidArgumentError, match="batch must be a positive integer"):
        GpuEngine(modelkit.cached("int8", modelkit.conv2d), batch=batch)


@pytest.mark.parametrize("batch,step,message", [
    (10, 4, "batch 10 is not a multiple of step 4"), (8, 0, "step must be a positive integer, got 0")])
def test_bad_step(batch, step, message):
    with pytest.raises(InvalidArgumentError, match=message):
        GpuEngine(modelkit.cached("int8", modelkit.conv2d), batch=batch, step=step)


def test_intermediate_tensor_that_is_not_an_activation():
    model = modelkit.cached("int8", modelkit.conv2d)
    with pytest.raises(UnsupportedModelError, match="not activations"):
        GpuEngine(model, outputs=[1])  # the filter constant
