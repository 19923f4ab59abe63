"""converters/tflite_io: float32 I/O around an int8 model computes QUANTIZE -> the int8 model -> DEQUANTIZE
(LiteRT's own kernels at both ends), and keeps the signature's names."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter

import edgelift
from edgelift.converters.tflite_io import float_io
from edgelift.quantization import dequantize, quantize
from edgelift.tflite_model import load
from tests.converters.tflite_inputs import FLOAT, calibration, run_builtin


def test_float_io_equals_quantize_model_dequantize(tmp_path):
    q = tmp_path / "q.tflite"
    edgelift.convert(str(FLOAT), str(q), quantize="int8", calibration=str(calibration(tmp_path)))
    int8 = q.read_bytes()
    wrapped = float_io(int8)
    m, w = load(int8), load(wrapped)
    assert [t.type_name for t in w.input_tensors + w.output_tensors] == ["FLOAT32"] * 3
    assert [op.op_name for op in w.operators].count("DEQUANTIZE") == 2
    assert Interpreter(model_content=wrapped).get_signature_list() == \
        Interpreter(model_content=int8).get_signature_list()
    (i,) = m.input_tensors
    x = np.random.default_rng(0).uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32)
    xq = quantize(x, i.scales[0], i.zero_points[0])
    for t, a, b in zip(m.output_tensors, run_builtin(int8, xq), run_builtin(wrapped, x), strict=True):
        # LiteRT 2.3's DEQUANTIZE rounds twice in its vector body, once in the tail: edgelift's rule does the same
        assert np.array_equal(dequantize(a, t.scales[0], t.zero_points[0]).view(np.int32), b.view(np.int32))
