"""Engines: the LiteRT interpreter and the exact-integer GPU path map a dataset alike."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.device.runtime.engines import make_engine
from edgelift.errors import InvalidArgumentError, RuntimeUnavailableError


def test_engines_litert_and_gpu(conv_int8):
    e = make_engine(conv_int8, "litert", "builtin")
    x = e.runner.random_inputs(seed=2, batch=3)
    out = e.predict_raw(x)[0]
    assert "delegate builtin" in e.describe()
    with pytest.raises(InvalidArgumentError, match="known: litert, gpu"):
        make_engine(conv_int8, "tpu")
    try:
        gpu = make_engine(conv_int8, "gpu", batch=2)
    except RuntimeUnavailableError as exc:
        assert "GPU validation path is not available" in str(exc)
        return
    np.testing.assert_array_equal(gpu.predict_raw(x)[0], out)  # the design promises bit-exactness
