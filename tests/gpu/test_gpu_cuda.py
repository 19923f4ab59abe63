"""The GPU path on a CUDA device: same bits as LiteRT's builtin kernels on the CPU. Skipped (with the reason)
where JAX sees no GPU, as on the CPU-only CI machine."""

from __future__ import annotations

import pytest

from tests import artefacts, modelkit
from tests.gpu.conftest import assert_identical, litert_reference, random_int8

jax = artefacts.jax()


def _has_gpu() -> bool:
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not _has_gpu(), reason="JAX sees no CUDA GPU (install edgelift[gpu] on a GPU host)")]

from edgelift.delegates.gpu import GpuEngine  # noqa: E402


@pytest.mark.parametrize("builder,args,kw", [
    (modelkit.conv2d, (), dict(shape=(7, 10, 130), filters=9, padding="valid")),
    (modelkit.depthwise_conv2d, (), dict(shape=(10, 10, 5), multiplier=2, strides=2)),
    (modelkit.dense, (), dict(features=1300, units=5)),
    (modelkit.small_resnet, (), dict()),
    (modelkit.dense, (), dict(features=24, units=10, activation="softmax")),
], ids=["conv-deep", "depthwise-m2", "fc-deep", "small_resnet", "softmax"])
@pytest.mark.parametrize("accumulate", ["f32", "int"])
def test_cuda_identical_to_builtin(builder, args, kw, accumulate):
    model = modelkit.cached("int8", builder, *args, **kw)
    try:
        eng = GpuEngine(model, batch=16, platform="gpu", accumulate=accumulate)
        xs = random_int8(eng.inputs[0].shape[1:], 40)
        got = eng.predict_raw(xs)
    except Exception as exc:  # XLA:GPU may lack integer convolutions; that is what the f32 strategy is for
        if accumulate == "int":
            pytest.skip(f"XLA integer accumulation unavailable on this GPU: {type(exc).__name__}")
        raise
    assert eng.device.startswith("cuda:")
    for g, e in zip(got, litert_reference(model, xs), strict=True):
        assert_identical(g, e, f"{builder.__name__} on {eng.device}")


@pytest.mark.slow
def test_cuda_mobilenet_v2_identical():
    model = modelkit.cached("int8", modelkit.mobilenet_v2)
    eng = GpuEngine(model, batch=64, platform="gpu")
    xs = random_int8((224, 224, 3), 64, seed=7)
    (got,) = eng.predict_raw(xs)
    assert_identical(got, litert_reference(model, xs)[0], f"MobileNetV2 on {eng.device}")
