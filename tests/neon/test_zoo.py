"""Real architectures (tests/zoo.py) through the NEON delegate and the XLA path: exact, and a coverage ratchet.

The suite runs the zoo entries that convert in seconds plus MobileNetV3Small (its squeeze-excite MUL and
rescaling ADD once differed from builtin by one step); `benchmarks/zoo_coverage.py` runs the whole zoo.
RATCHET holds today's fragmentation: coverage work lowers these numbers, a regression fails here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgelift.device.runtime import load_interpreter, random_like
from tests import zoo

pytestmark = pytest.mark.slow

# model -> (at most this many partitions, at most this many nodes left to the runtime)
RATCHET = {
    "mobilenet_v3_small": (1, 0),
    "kws_dscnn": (1, 0),
    "transformer_block": (9, 20),
    "unet": (1, 0),
    "yolo_head": (1, 3),
    "lstm": (1, 1),
}
# models the XLA path must lower whole (the others must name the node they refuse)
XLA_LOWERS = {"mobilenet_v3_small", "kws_dscnn", "yolo_head"}


@pytest.fixture(scope="module", params=sorted(RATCHET))
def model(request):
    return request.param, zoo.tflite(request.param)


def test_the_delegate_is_exact_and_does_not_fragment_more_than_before(model):
    name, data = model
    neon, builtin = load_interpreter(data, "neon"), load_interpreter(data, "builtin")
    info = neon.partition_info
    max_partitions, max_left = RATCHET[name]
    assert len(info.partitions) <= max_partitions, info.summary
    assert len(info.not_delegated) <= max_left, info.summary
    for seed in range(3):
        feed = random_like(builtin.input_details, seed=seed)
        for want, got in zip(builtin.run(feed), neon.run(feed), strict=True):
            assert np.array_equal(want, got), f"{name}: {int((want != got).sum())} values differ (seed {seed})"


def test_the_xla_path_is_exact_or_names_what_it_refuses(model):
    from edgelift.delegates.gpu import GpuEngine  # jax is a dev dependency: `make test` always has it
    from edgelift.errors import EdgeliftError

    name, data = model
    try:
        engine = GpuEngine(data, batch=1)
    except EdgeliftError as exc:
        assert name not in XLA_LOWERS, f"{name}: {exc}"
        assert re.search(r"cannot lower (node \d+ \(\w+\)|\d+ nodes) exactly", str(exc)), str(exc)
        return
    assert name in XLA_LOWERS, f"{name} now lowers whole: add it to XLA_LOWERS"
    builtin = load_interpreter(data, "builtin")
    feed = random_like(builtin.input_details, seed=0)
    for want, got in zip(builtin.run(feed), engine.predict_raw(feed), strict=True):
        assert np.array_equal(want, got), f"{name}: the XLA path differs from builtin"
