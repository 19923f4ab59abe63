"""ai-edge-quantizer's own layout for larger models: buffers of 1 KB+ stored after the flatbuffer once they
add up to 256 KB. The converted file keeps them there; LiteRT, the NEON delegate, `inspect` and --io float32
all read them."""

from __future__ import annotations

import numpy as np
import pytest

import edgelift
from edgelift.inspection import inspect
from tests import modelkit

WIDTH = 640  # 640 x 640 int8 weights = 400 KB, past the quantizer's 256 KB threshold


def wide_dense():
    k = modelkit.keras()
    modelkit.tensorflow().random.set_seed(0)
    inp = k.layers.Input((WIDTH,), batch_size=1)
    h = k.layers.Dense(WIDTH, activation="relu", name="wide")(inp)
    return k.Model(inp, k.layers.Dense(8, name="head")(h))


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("wide")
    p = d / "wide.tflite"
    p.write_bytes(modelkit.cached("float", wide_dense))
    cal = d / "cal.npz"
    np.savez(cal, x=np.random.default_rng(0).uniform(-1, 1, (32, WIDTH)).astype(np.float32))
    return p, cal


@pytest.mark.parametrize("io", ["int8", "float32"])
def test_external_weights_written_read_and_exact(tmp_path, float_model, io):
    src, cal = float_model
    q = tmp_path / "q.tflite"
    edgelift.convert(str(src), str(q), quantize="int8", io=io, calibration=str(cal))
    info = inspect(q)
    wide = next(w for w in info["weights"] if "wide" in w["tensor"])
    assert wide["dtype"] == "INT8" and wide["bytes"] == WIDTH * WIDTH
    external = info["size_breakdown"]["external_buffers"]
    assert (external >= WIDTH * WIDTH) == (io == "int8")  # float I/O repacks into one flatbuffer
    v = edgelift.validate(str(q), delegate="neon", reference_delegate="builtin", exact=True)
    assert v.passed
