"""The memory-safety fuzzer: a fixed-seed batch of random int8 models over every op family the delegate claims
(tests/neon/fuzz_models.py) is bit-identical to builtin on x86, and runs clean under the ASan + UBSan build
(out-of-bounds reads such as a SOFTMAX table indexed past its end abort the run)."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.device.runtime import load_interpreter, random_like
from tests.neon import fuzz_models
from tests.neon.test_sanitizers import assert_clean_under_sanitizers

pytestmark = pytest.mark.slow
BATCH = range(24)  # fixed seeds: a failure names the model that shows it, and reruns the same


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz")
    paths = []
    for i in BATCH:
        path = d / f"fuzz-{i}.tflite"
        path.write_bytes(fuzz_models.tflite(i))
        paths.append(path)
    return paths


def test_every_fuzz_model_is_identical_to_builtin(models):
    claimed = 0
    for path in models:
        data = path.read_bytes()
        neon, builtin = load_interpreter(data, "neon"), load_interpreter(data, "builtin")
        claimed += len(neon.partition_info.delegated_nodes)
        for seed in range(2):
            feed = random_like(builtin.input_details, seed=seed)
            for want, got in zip(builtin.run(feed), neon.run(feed), strict=True):
                assert np.array_equal(want, got), f"{path.name}: {int((want != got).sum())} values differ (seed {seed})"
    assert claimed >= 4 * len(models)  # the batch exercises the delegate, not the runtime's fallback


def test_every_fuzz_model_runs_clean_under_asan_and_ubsan(models, neon_lib_asan):
    assert_clean_under_sanitizers(neon_lib_asan, models)
