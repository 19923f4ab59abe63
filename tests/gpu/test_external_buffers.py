"""The XLA path reads weights stored after the flatbuffer (buffer offset/size, as ai-edge-quantizer and
large-model writers store them): before, it refused every conv as "filter must be a constant"."""

from __future__ import annotations

import pytest

import edgelift
from tests import tflite_edit
from tests.converters.tflite_inputs import FLOAT, calibration

pytest.importorskip("jax")


def test_int8_detector_with_external_weights_exact_on_xla(tmp_path):
    q = tmp_path / "q.tflite"
    edgelift.convert(str(FLOAT), str(q), quantize="int8", calibration=str(calibration(tmp_path)))
    external, moved = tflite_edit.external_buffers(q.read_bytes())
    assert moved >= 10
    ext = tmp_path / "ext.tflite"
    ext.write_bytes(external)
    v = edgelift.validate(str(ext), backend="gpu", reference_delegate="builtin", exact=True, samples=8)
    assert v.passed and all(o["exact"]["identical_share"] == 1.0 for o in v.outputs)
