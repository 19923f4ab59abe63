"""Real architectures (tests/zoo.py) through the NEON delegate and the XLA path: exact, and a coverage ratchet.

The suite runs the zoo entries that convert in seconds plus MobileNetV3Small (its squeeze-excite MUL and
rescaling ADD once differed from builtin by one step) and ConvNeXtTiny (707 nodes of dynamic-batch reshapes,
LayerNorm MEANs and grouped convs: the delegate's shape inference, the XLA path's traced shapes; its XLA
compile takes a minute or two); `benchmarks/zoo_coverage.py` runs the whole zoo.
RATCHET holds today's fragmentation: coverage work lowers these numbers, a regression fails here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgelift.device.runtime import load_interpreter, random_like
from tests import zoo
from tests.neon import harness

pytestmark = pytest.mark.slow

# model -> (at most this many partitions, at most this many nodes left to the runtime)
RATCHET = {
    "mobilenet_v3_small": (1, 0),
    "kws_dscnn": (1, 0),
    "transformer_block": (1, 0),
    "unet": (1, 0),
    "yolo_head": (1, 0),
    "lstm": (1, 1),
    "convnext_tiny": (1, 0),
}
# dynamic-batch models whose reshapes are computed at run time (SHAPE -> ... -> RESHAPE, LayerNorm's FILL):
# resized to batch 4 every partition infers its shapes and folds its shape vectors again
RESIZED = ("yolo_head", "transformer_block", "convnext_tiny")
# models the XLA path must lower whole (the others must name the node they refuse, and only the ops listed)
XLA_LOWERS = {"mobilenet_v3_small", "kws_dscnn", "yolo_head", "convnext_tiny", "unet", "transformer_block"}
XLA_REFUSES = {"lstm": {"UNIDIRECTIONAL_SEQUENCE_LSTM"}}


@pytest.fixture(scope="module", params=sorted(RATCHET))
def model(request):
    return request.param, zoo.tflite(request.param)


# auto: the best kernels this CPU has (AVX2 on x86-64 where CPUID reports it); scalar: the portable ones forced
@pytest.mark.parametrize("kernels", ["auto", "scalar"])
def test_the_delegate_is_exact_and_does_not_fragment_more_than_before(model, kernels):
    name, data = model
    neon = load_interpreter(data, "neon", delegate_options={"kernels": kernels})
    builtin = load_interpreter(data, "builtin")
    info = neon.partition_info
    max_partitions, max_left = RATCHET[name]
    assert len(info.partitions) <= max_partitions, info.summary
    assert len(info.not_delegated) <= max_left, info.summary
    for seed in range(3):
        feed = random_like(builtin.input_details, seed=seed)
        for want, got in zip(builtin.run(feed), neon.run(feed), strict=True):
            assert np.array_equal(want, got), f"{name}: {int((want != got).sum())} values differ (seed {seed})"


@pytest.mark.parametrize("name", RESIZED)
def test_dynamic_batch_models_resized_to_batch_4_stay_exact(name, neon_lib):
    data = zoo.tflite(name)
    neon, builtin = harness.interpreter(data, neon_lib), harness.interpreter(data)
    for it in (neon, builtin):
        d = it.get_input_details()[0]
        it.resize_tensor_input(d["index"], [4, *d["shape"][1:]])
        it.allocate_tensors()
    d = builtin.get_input_details()[0]
    x = np.random.default_rng(4).integers(-128, 128, d["shape"]).astype(np.int8)
    assert x.shape[0] == 4
    want, got = harness.run(builtin, [x]), harness.run(neon, [x])
    for w, g in zip(want, got, strict=True):
        assert w.shape == g.shape and w.shape[0] == 4, (w.shape, g.shape)
        assert np.array_equal(w, g), f"{name} at batch 4: {int((w != g).sum())} values differ"


def test_the_xla_path_is_exact_or_names_what_it_refuses(model):
    from edgelift.delegates.gpu import GpuEngine  # jax is a dev dependency: `make test` always has it
    from edgelift.errors import EdgeliftError

    name, data = model
    try:
        engine = GpuEngine(data, batch=1)
    except EdgeliftError as exc:
        assert name not in XLA_LOWERS, f"{name}: {exc}"
        assert re.search(r"cannot lower (node \d+ \(\w+\)|\d+ nodes) exactly", str(exc)), str(exc)
        assert set(re.findall(r"node \d+ \((\w+)\)", str(exc))) == XLA_REFUSES[name], str(exc)
        return
    assert name in XLA_LOWERS, f"{name} now lowers whole: add it to XLA_LOWERS"
    builtin = load_interpreter(data, "builtin")
    feed = random_like(builtin.input_details, seed=0)
    for want, got in zip(builtin.run(feed), engine.predict_raw(feed), strict=True):
        assert np.array_equal(want, got), f"{name}: the XLA path differs from builtin"
