"""Each --quantize mode emits the tensor types it promises, read back from the flatbuffer."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift.converters.quantize import check_calibration, check_mode, to_tflite
from edgelift.converters.warn import ConvertWarning
from edgelift.errors import DataError, InvalidArgumentError
from edgelift.tflite_model import load
from tests.converters.conftest import arrays


def weights_of(m, op="CONV_2D"):
    return [m.tensors[o.inputs[1]] for o in m.operators if o.op_name == op]


@pytest.fixture(scope="module")
def calib():
    return arrays(32)[0]


@pytest.mark.parametrize(
    "mode,io,weight_type,in_type",
    [("none", "float32", "FLOAT32", "FLOAT32"), ("dynamic", "float32", "INT8", "FLOAT32"),
     ("float16", "float32", "FLOAT16", "FLOAT32"), ("int8", "int8", "INT8", "INT8"),
     ("int8", "float32", "INT8", "FLOAT32"), ("int16x8", "float32", "INT8", "FLOAT32")],
)
def test_modes(model, calib, mode, io, weight_type, in_type):
    m = load(to_tflite(model, quantize=mode, io=io, calibration=calib if mode in ("int8", "int16x8") else None))
    if mode == "float16":  # fp16 constants, dequantized to float32 at load
        assert "DEQUANTIZE" in m.op_histogram()
        assert {t.type_name for t in m.tensors if t.data is not None and t.data.ndim == 4} == {"FLOAT16"}
    elif mode == "dynamic":  # TFLite quantizes weights of >= 1024 elements: d1 (2048) yes, c2 (576) no
        assert weights_of(m, "FULLY_CONNECTED")[0].type_name == "INT8"
        assert weights_of(m)[1].type_name == "FLOAT32"
    else:
        assert {t.type_name for t in weights_of(m)} == {weight_type}
    assert m.input_tensors[0].type_name == in_type
    if mode == "int16x8":  # activations in int16
        conv = next(o for o in m.operators if o.op_name == "CONV_2D")
        assert m.tensors[conv.outputs[0]].type_name == "INT16"
    if mode == "int8":
        w = weights_of(m)[0]
        assert w.per_channel and w.scales.size == 8 and w.quantized_dimension == 0


def test_per_tensor(model, calib):
    m = load(to_tflite(model, quantize="int8", io="int8", calibration=calib, per_channel=False))
    assert all(t.scales.size == 1 for t in weights_of(m))


def test_capability_table():
    assert check_mode("int8", None, False, True) == "int8"
    assert check_mode("float16", None, False, False) == "float32"
    with pytest.raises(InvalidArgumentError, match="--io int8 is not available with --quantize float16"):
        check_mode("float16", "int8", False, False)
    with pytest.raises(InvalidArgumentError, match="--quantize int8 needs calibration data.*--calibration DATA"):
        check_mode("int8", None, False, False)
    assert check_mode("int8", "int8", True, False) == "int8"  # QAT carries its own ranges
    with pytest.raises(InvalidArgumentError, match="--quantize 'int4' is not one of none, dynamic"):
        check_mode("int4", None, False, False)


def test_calibration_checks():
    x = np.zeros((40, 8, 8, 4), np.float32)
    assert check_calibration(x, (None, 8, 8, 4), "c.npz", 100).shape == (40, 8, 8, 4)
    ordered = np.repeat(np.arange(40, dtype=np.float32), 64).reshape(40, 8, 8, 1)  # sorted, like class folders
    picked = check_calibration(ordered, (None, 8, 8, 1), "c.npz", 10)[:, 0, 0, 0]
    assert picked.shape == (10,) and len(set(picked)) == 10 and picked.max() - picked.min() > 20  # spread out
    with pytest.warns(ConvertWarning, match="is uint8; it is cast to float32 as is"):
        check_calibration(x.astype(np.uint8), (None, 8, 8, 4), "c.npz", 100)
    with pytest.raises(DataError, match=r"samples of shape \(8, 8, 3\); the model input expects \(8, 8, 4\)"):
        check_calibration(np.zeros((40, 8, 8, 3), np.float32), (None, 8, 8, 4), "c.npz", 100)
    with pytest.raises(DataError, match="has 5 samples; at least 16"):
        check_calibration(x[:5], (None, 8, 8, 4), "c.npz", 100)
    with pytest.raises(DataError, match="has dtype bool"):
        check_calibration(x.astype(bool), (None, 8, 8, 4), "c.npz", 100)
