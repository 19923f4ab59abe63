"""converters/tflite_quantize: per-layer overrides are checked before any work, and a quantizer failure
becomes one line naming the mode."""

from __future__ import annotations

import pytest

from edgelift.converters.tflite_prep import prepare
from edgelift.converters.tflite_quantize import LAYER_MODES, check_layers, quantize
from edgelift.errors import InvalidArgumentError, UnsupportedModelError
from edgelift.tflite_model import load
from tests.converters.tflite_inputs import FLOAT


def test_layers_accepted_as_given():
    layers = {m + "_x": m for m in LAYER_MODES}
    assert check_layers(layers) == layers and check_layers(None) == {}


@pytest.mark.parametrize("layers,match", [({}, "must be a mapping"), (["a"], "must be a mapping"),
                                          ({"a": 8}, "must be a string regex and a string mode"),
                                          ({"[": "int8"}, "does not compile"), ({"a": "int4"}, "allowed: int8")])
def test_bad_layers_refused(layers, match):
    with pytest.raises(InvalidArgumentError, match=match):
        check_layers(layers)


def test_static_mode_without_calibration_refused():
    prepared, _ = prepare(FLOAT.read_bytes(), "face")
    with pytest.raises(InvalidArgumentError, match="needs calibration data"):
        quantize(prepared, "int8", per_channel=True, layers={}, calibration=None, signature_key="serving_default")


def test_per_tensor_weights():
    prepared, _ = prepare(FLOAT.read_bytes(), "face")
    out = quantize(prepared, "dynamic", per_channel=False, layers={}, calibration=None,
                   signature_key="serving_default")
    m = load(out)
    w = [m.tensors[op.inputs[1]] for op in m.operators if op.op_name == "CONV_2D"]
    assert w and all(t.type_name == "INT8" and t.scales.size == 1 for t in w)


def test_quantizer_failure_is_one_line():
    prepared, _ = prepare(FLOAT.read_bytes(), "face")
    with pytest.raises(UnsupportedModelError, match="ai-edge-quantizer could not quantize the model to int8"):
        quantize(prepared, "int8", per_channel=True, layers={}, calibration=[{"no_such_input": None}],
                 signature_key="serving_default")
