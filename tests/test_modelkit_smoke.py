"""The test model kit itself produces int8 flatbuffers the reader understands."""

from edgelift.tflite_model import TFLiteModel
from tests import modelkit


def test_conv_model_is_int8_with_per_channel_weights():
    m = TFLiteModel(modelkit.cached("int8", modelkit.conv2d, filters=5))
    conv = [op for op in m.operators if op.op_name == "CONV_2D"]
    assert len(conv) == 1
    weights = m.tensors[conv[0].inputs[1]]
    assert weights.type_name == "INT8" and weights.per_channel and weights.scales.size == 5
    assert m.input_tensors[0].type_name == "INT8"
