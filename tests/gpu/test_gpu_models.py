"""Whole models through the GPU path, identical to LiteRT's builtin kernels on a batch of 64 inputs.

Compiling MobileNetV2 with XLA takes ~15 s, so each engine is built once per module.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import artefacts, modelkit
from tests.gpu.conftest import assert_identical, litert_reference, random_int8

artefacts.jax()

from edgelift.delegates.gpu import GpuEngine  # noqa: E402


def _probe_tensors(model) -> list[int]:
    """Model output plus activations along the way: with random weights the final softmax saturates, so the
    logits and intermediate layers are what make the comparison meaningful."""
    from edgelift.tflite_model import load

    m = load(model)
    picks = [op.outputs[0] for op in m.operators[::10]]
    picks += [op.outputs[0] for op in m.operators if op.op_name in ("MEAN", "FULLY_CONNECTED")]
    return list(dict.fromkeys([*m.outputs, *picks]))


@pytest.fixture(scope="module")
def mobilenet_v2():
    model = modelkit.cached("int8", modelkit.mobilenet_v2)
    return model, GpuEngine(model, batch=32, outputs=_probe_tensors(model))


@pytest.mark.slow
def test_mobilenet_v2_int8_identical_on_64_inputs(mobilenet_v2):
    model, eng = mobilenet_v2
    assert eng.lowered.model.op_histogram() == {"CONV_2D": 35, "DEPTHWISE_CONV_2D": 17, "ADD": 10,
                                                "FULLY_CONNECTED": 1, "MEAN": 1, "SOFTMAX": 1}
    # on a CPU the batch of 32 runs in cache-sized steps inside one call (112x112x96 int32 per sample: 4 a step)
    assert eng.step == (4 if eng.jax_device.platform == "cpu" else 32)
    xs = random_int8((224, 224, 3), 64, seed=7)
    tensors = _probe_tensors(model)
    got = eng.predict_raw(xs)
    expected = litert_reference(model, xs, tensors=tensors)
    names = {t.index: t.name for t in eng.lowered.model.tensors}
    for idx, g, e in zip(tensors, got, expected, strict=True):
        assert_identical(g, e, f"MobileNetV2 int8 tensor {idx} ({names[idx]})")
    first = got[tensors.index(eng.lowered.model.operators[0].outputs[0])]
    assert len(np.unique(first)) > 100  # the input really flows (the untrained model's later layers are flat;
    # see the live-activation variant below for a full-depth comparison)


@pytest.mark.slow
def test_mobilenet_v2_predict_quantizes_float_images(mobilenet_v2):
    model, _ = mobilenet_v2
    eng = GpuEngine(model, batch=8)
    spec = eng.inputs[0]
    images = np.random.default_rng(3).uniform(-1, 1, (5, 224, 224, 3)).astype(np.float32)
    from edgelift.quantization import quantize

    q = quantize(images, spec.scale, spec.zero_point)
    probs = eng.predict(images)[0]
    (expected,) = litert_reference(model, q)
    out = eng.outputs[0]
    assert np.array_equal(probs, (expected.astype(np.float32) - out.zero_point) * np.float32(out.scale))
    assert probs.dtype == np.float32 and probs.shape == (5, 1000)


@pytest.mark.slow
def test_digits_cnn_identical_on_real_test_images(digits_cnn):
    model = modelkit.digits_int8()
    _, (_xtr, _ytr, xte, yte) = digits_cnn
    eng = GpuEngine(model, batch=32)
    spec = eng.inputs[0]
    from edgelift.quantization import quantize

    xs = quantize(np.asarray(xte[:64], np.float32).reshape(-1, *spec.shape[1:]), spec.scale, spec.zero_point)
    (got,) = eng.predict_raw(xs)
    (expected,) = litert_reference(model, xs)
    assert_identical(got, expected, "digits CNN int8")
    accuracy = float(np.mean(np.argmax(got.reshape(len(xs), -1), axis=1) == np.asarray(yte[:64])))
    assert accuracy > 0.8, f"digits accuracy {accuracy:.2f}: the model did not train"


def mobilenet_v2_live(size: int = 96, seed: int = 0):
    """MobileNetV2 (alpha 1.0) with random weights whose BatchNorm statistics are set from the activations of
    random images, layer by layer, so no layer collapses to a constant (as the untrained model's second half
    does): every layer of the int8 graph then carries real information through the comparison."""
    from edgelift._tf import keras

    model = modelkit.mobilenet_v2(size=size, seed=seed)
    x = np.random.default_rng(seed).uniform(-1, 1, (8, size, size, 3)).astype(np.float32)
    bns = [layer for layer in model.layers if isinstance(layer, keras().layers.BatchNormalization)]
    probe = keras().Model(model.input, [bn.input for bn in bns])  # shares the layers: sees each update
    for i, bn in enumerate(bns):
        a = probe(x, training=False)[i].numpy()
        gamma, beta, _, _ = bn.get_weights()
        bn.set_weights([gamma, beta, a.mean(axis=(0, 1, 2)), a.var(axis=(0, 1, 2)) + 1e-3])
    return model


@pytest.mark.slow
def test_mobilenet_v2_with_live_activations_identical_layer_by_layer():
    model = modelkit.cached("int8", mobilenet_v2_live)
    from edgelift.tflite_model import load

    m = load(model)
    tensors = [op.outputs[0] for op in m.operators]
    eng = GpuEngine(model, batch=16, outputs=tensors)
    xs = random_int8(eng.inputs[0].shape[1:], 32, seed=9)
    got = eng.predict_raw(xs)
    expected = litert_reference(model, xs, tensors=tensors)
    for op, g, e in zip(m.operators, got, expected, strict=True):
        assert_identical(g, e, f"node {op.index} ({op.op_name})")
    spread = [len(np.unique(g)) for g in got[:-1]]
    assert min(spread) > 8, f"a layer collapsed to {min(spread)} distinct values: the test lost its power"


def test_sample_count_not_a_multiple_of_the_batch_and_zero_samples():
    model = modelkit.cached("int8", modelkit.small_resnet)
    eng = GpuEngine(model, batch=8)
    xs = random_int8(eng.inputs[0].shape[1:], 13, seed=2)
    (got,) = eng.predict_raw(xs)
    assert_identical(got, litert_reference(model, xs)[0], "13 samples through batch 8")
    (empty,) = eng.predict_raw(xs[:0])
    assert empty.shape == (0, *eng.outputs[0].shape[1:]) and empty.dtype == np.int8
    # one sample with the model's own batch axis is accepted too
    (one,) = eng.predict_raw(xs[:1].reshape(1, 1, *xs.shape[1:]))
    assert np.array_equal(one, got[:1])


def test_steps_inside_a_call_give_the_same_outputs():
    model = modelkit.cached("int8", modelkit.conv2d)
    xs = random_int8(GpuEngine(model, batch=1).inputs[0].shape[1:], 21, seed=3)
    whole = GpuEngine(model, batch=12, step=12)
    stepped = GpuEngine(model, batch=12, step=3)
    assert whole.step == 12 and stepped.step == 3 and "batch 12 in steps of 3" in stepped.describe()
    assert np.array_equal(whole.predict_raw(xs)[0], stepped.predict_raw(xs)[0])


def test_describe_names_the_device():
    eng = GpuEngine(modelkit.cached("int8", modelkit.conv2d), batch=4)
    assert eng.device in ("cpu:0", "cuda:0")
    assert eng.describe().startswith(f"XLA on {eng.device}")


def test_details_match_the_interpreter():
    """validate reads input_details/output_details from either engine: same fields, same values."""
    from ai_edge_litert.interpreter import Interpreter

    model = modelkit.cached("int8", modelkit.small_resnet)
    eng = GpuEngine(model, batch=4)
    it = Interpreter(model_content=model)
    for mine, theirs in ((eng.input_details, it.get_input_details()), (eng.output_details, it.get_output_details())):
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert (a["name"], a["index"], a["dtype"], a["quantization"]) == \
                (b["name"], b["index"], b["dtype"], b["quantization"])
            assert np.array_equal(a["shape"], b["shape"])
            for key in ("scales", "zero_points"):
                assert np.array_equal(a["quantization_parameters"][key], b["quantization_parameters"][key])


def test_64_bit_mode_stays_local():
    """The lowering needs int64 only inside its own computations; other code keeps JAX's 32-bit default."""
    import jax
    import jax.numpy as jnp

    eng = GpuEngine(modelkit.cached("int8", modelkit.conv2d), batch=2)
    eng.predict_raw(random_int8(eng.inputs[0].shape[1:], 3))
    assert not jax.config.jax_enable_x64
    assert jnp.asarray(1).dtype == jnp.int32
