"""Whole models through the NEON delegate: every node delegated, outputs identical to the builtin kernels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests import modelkit
from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions(.*)")


def _all_delegated(model: bytes, neon_lib: str, capfd) -> str:
    harness._delegate.cache_clear()
    harness.interpreter(model, neon_lib, log_level="info")
    m = LINE.search(capfd.readouterr().err)
    assert m, "no partition line logged"
    assert m.group(1) == m.group(2) and m.group(3) == "1", m.group(0)
    return m.group(0)


def test_digits_cnn(neon_lib, capfd, digits_cnn):
    """The trained digits CNN: all nodes delegated; identical outputs on random and on real digit images."""
    model = modelkit.digits_int8()
    _all_delegated(model, neon_lib, capfd)
    harness.assert_identical(model, neon_lib, seeds=(0, 1, 2, 3))
    # real images: the same top-1 class and bit-identical int8 scores on the whole test split
    _, (_, _, x_test, _) = digits_cnn
    ref, neon = harness.interpreter(model), harness.interpreter(model, neon_lib)
    d = ref.get_input_details()[0]
    scale, zp = d["quantization"]
    for img in x_test[:64]:
        q = np.clip(np.round(img / scale) + zp, -128, 127).astype(np.int8)[None]
        assert np.array_equal(harness.run(ref, [q])[0], harness.run(neon, [q])[0])


def test_small_resnet(neon_lib, capfd):
    model = modelkit.cached("int8", modelkit.small_resnet)
    _all_delegated(model, neon_lib, capfd)
    harness.assert_identical(model, neon_lib)


@pytest.mark.slow
def test_mobilenet_v1(neon_lib, capfd):
    """Keras' MobileNet (alpha 0.25, 128): ends in a keep_dims spatial MEAN and a RESHAPE whose shape is computed
    by SHAPE/STRIDED_SLICE/PACK from the dynamic batch: all claimed, one partition, identical."""
    model = modelkit.cached("int8", modelkit.mobilenet_v1)
    _all_delegated(model, neon_lib, capfd)
    harness.assert_identical(model, neon_lib, seeds=(0, 1))


@pytest.mark.slow
def test_mobilenet_v2_224(neon_lib, capfd):
    """MobileNetV2 int8, 224x224, alpha 1.0 (Keras application, weights=None): 65 of 65 nodes, identical."""
    model = modelkit.cached("int8", modelkit.mobilenet_v2)
    line = _all_delegated(model, neon_lib, capfd)
    assert line.startswith("edgelift-neon: 65 of 65"), line
    harness.assert_identical(model, neon_lib, seeds=(0, 1))


@pytest.mark.parametrize("threads", [2, 3])
def test_num_threads_gives_identical_outputs(neon_lib, threads):
    """num_threads splits conv rows and depthwise rows across a thread pool: results do not change."""
    harness.assert_identical(modelkit.cached("int8", modelkit.small_resnet), neon_lib, threads=threads)
    model = harness.convert("depthwise_conv2d", -1, 1, shape=(9, 9, 64), strides=2, activation="relu")
    harness.assert_identical(model, neon_lib, threads=threads)
    model = harness.convert("conv2d", -1, 1, shape=(11, 11, 17), filters=9, padding="valid", strides=2)
    harness.assert_identical(model, neon_lib, threads=threads)


@pytest.mark.parametrize("builder,kwargs", [
    ("conv2d", dict(shape=(9, 9, 3), filters=8)),
    ("reshape_softmax", dict(features=12, units=10)),  # SHAPE/STRIDED_SLICE/PACK see the new batch
])
def test_batch_resize_is_propagated(neon_lib, builder, kwargs):
    """A resized (batch 3) input: the delegate propagates shapes through its partition; still identical."""
    model = harness.convert(builder, -1, 1, **kwargs)
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    outs = []
    for delegates in ([], [harness._delegate(neon_lib, "auto", "silent")]):
        it = Interpreter(model_content=model, experimental_delegates=delegates,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        shape = [3, *it.get_input_details()[0]["shape"][1:]]
        it.resize_tensor_input(it.get_input_details()[0]["index"], shape)
        it.allocate_tensors()
        x = np.random.default_rng(5).integers(-128, 128, shape, dtype=np.int8)
        outs.append(harness.run(it, [x])[0])
    assert outs[1].shape[0] == 3 and outs[1].shape == outs[0].shape
    assert np.array_equal(outs[0], outs[1])
