"""converters/tflite_prep: each of the three fixes found on MediaPipe's models, and that none changes what
the float model computes (LiteRT's builtin kernels, bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from edgelift.converters import tflite_prep
from edgelift.errors import InvalidModelError
from edgelift.tflite_model import load
from tests import tflite_edit
from tests.converters.tflite_inputs import FLOAT, FP16, run_builtin


def _codes(content: bytes) -> list[tuple[int, int]]:
    m = schema.ModelT.InitFromPackedBuf(content, 0)
    return [(int(c.builtinCode), int(c.deprecatedBuiltinCode)) for c in m.operatorCodes]


def _inputs(n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, (1, 64, 64, 3)).astype(np.float32) for _ in range(n)]


def test_shipped_file_has_the_three_problems():
    content = FLOAT.read_bytes()
    assert any(b == 0 and d > 0 for b, d in _codes(content))  # CONV_2D etc. read as ADD from the 32-bit field
    assert not schema.ModelT.InitFromPackedBuf(content, 0).signatureDefs
    assert "DEQUANTIZE" in load(FP16.read_bytes()).op_histogram()


def test_op_codes_taken_from_the_deprecated_field():
    prepared, rep = tflite_prep.prepare(FLOAT.read_bytes(), "face")
    assert set(rep.op_codes_fixed) == {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RESHAPE"}
    assert all(b == d for b, d in _codes(prepared))  # all codes below 127: both fields agree
    assert load(prepared).op_histogram() == load(FLOAT.read_bytes()).op_histogram()


def test_signature_added_with_the_tensor_names():
    from ai_edge_litert.interpreter import Interpreter

    prepared, rep = tflite_prep.prepare(FLOAT.read_bytes(), "face")
    assert rep.signature_added
    sig = Interpreter(model_content=prepared).get_signature_list()
    assert sig == {"serving_default": {"inputs": ["input"], "outputs": sorted(["regressors", "classificators"])}}
    _, again = tflite_prep.prepare(prepared, "prepared")
    assert not again.signature_added and not again.op_codes_fixed  # idempotent


def test_fp16_weights_widened_and_dequantize_removed():
    prepared, rep = tflite_prep.prepare(FP16.read_bytes(), "face16")
    m = load(prepared)
    assert rep.fp16_folded == 24 and "DEQUANTIZE" not in m.op_histogram()
    assert not [t for t in m.tensors if t.type_name == "FLOAT16"]  # the fp16 originals left the file
    assert rep.removed_tensors == 24


@pytest.mark.parametrize("path", [FLOAT, FP16], ids=["float", "fp16"])
def test_prepared_model_computes_the_same_bits(path):
    original = path.read_bytes()
    prepared, _ = tflite_prep.prepare(original, path.name)
    for x in _inputs():
        for a, b in zip(run_builtin(original, x), run_builtin(prepared, x), strict=True):
            assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)


def test_external_buffers_read_in():
    original = FLOAT.read_bytes()
    external, moved = tflite_edit.external_buffers(original)
    assert moved >= 10
    x = _inputs(1)[0]
    for a, b in zip(run_builtin(original, x), run_builtin(external, x), strict=True):
        assert np.array_equal(a, b)  # LiteRT reads them: the edited file is a real one
    prepared, rep = tflite_prep.prepare(external, "external")
    assert rep.external_buffers_inlined == moved
    assert all(not (b.offset or b.size) for b in schema.ModelT.InitFromPackedBuf(prepared, 0).buffers)
    for a, b in zip(run_builtin(original, x), run_builtin(prepared, x), strict=True):
        assert np.array_equal(a, b)


def test_external_buffer_past_the_end_is_refused():
    external, _ = tflite_edit.external_buffers(FLOAT.read_bytes())
    with pytest.raises(InvalidModelError, match="past the end of the file"):
        tflite_prep.prepare(external[:-200], "cut")


@pytest.mark.parametrize("content,match", [(b"garbage!" * 4, "not a TFLite flatbuffer"),
                                           (FLOAT.read_bytes()[:4000], "corrupt or truncated")])
def test_unreadable_files_get_one_line(content, match):
    with pytest.raises(InvalidModelError, match=match):
        tflite_prep.prepare(content, "bad")


def _quantize_with(path, *, fix_codes: bool, fold_fp16: bool):
    from edgelift.converters.tflite_quantize import quantize
    from examples.face_detector import face_model

    m = tflite_prep.read(path.read_bytes(), path.name)
    if fix_codes:
        tflite_prep.fix_op_codes(m)
    if fold_fp16:
        tflite_prep.fold_fp16_dequantize(m)
        tflite_prep.drop_unused_tensors(m)
    tflite_prep.add_signature(m)
    x, _, _ = face_model.synthetic_faces(16, 1)
    return quantize(tflite_prep.write(m), "int8", per_channel=True, layers={},
                    calibration=[{"input": x[i:i + 1]} for i in range(16)], signature_key="serving_default")


def test_without_the_op_code_fix_the_quantized_model_does_not_load():
    """The quantizer reads the 32-bit field (0 = ADD): it quantizes every conv's weights as an ADD operand
    (asymmetric, zero point != 0), which LiteRT's CONV_2D refuses."""
    from ai_edge_litert.interpreter import Interpreter

    broken = _quantize_with(FLOAT, fix_codes=False, fold_fp16=True)
    with pytest.raises(Exception, match="zero_point"):
        Interpreter(model_content=broken).allocate_tensors()
    Interpreter(model_content=_quantize_with(FLOAT, fix_codes=True, fold_fp16=True)).allocate_tensors()


def test_without_the_fp16_fold_the_quantizer_fails():
    from edgelift.errors import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match="ai-edge-quantizer could not quantize"):
        _quantize_with(FP16, fix_codes=True, fold_fp16=False)
