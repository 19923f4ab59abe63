"""`inspect` on what real exports hold: fp16 weights behind DEQUANTIZE, TFLite's sparse tensor format (read
back to the pruned weights), custom ops, weights stored after the flatbuffer, and MACs never 0 when unknown."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.inspection import inspect
from edgelift.tflite_model import load
from edgelift.tflite_sparse import densify
from tests import sparse_models, tflite_edit
from tests.converters.tflite_inputs import FLOAT, FP16


def test_fp16_weights_listed_with_dtype_bytes_and_sparsity():
    info = inspect(FP16)
    f32 = inspect(FLOAT)
    assert len(info["weights"]) == len(f32["weights"]) == 13
    for w16, w32 in zip(info["weights"], f32["weights"], strict=True):
        assert w16["dtype"] == "FLOAT16" and w32["dtype"] == "FLOAT32"
        assert w16["bytes"] == 2 * w16["elements"] and w32["bytes"] == 4 * w32["elements"]
        assert w16["shape"] == w32["shape"] and w16["op"] == w32["op"]
    assert info["size_breakdown"]["weights"] == f32["size_breakdown"]["weights"] // 2
    assert info["size_breakdown"]["constants_by_dtype"]["FLOAT16"] > 0


def test_fp16_zeros_counted():
    from ai_edge_litert import schema_py_generated as schema

    from tests.tflite_edit import _pack

    m = schema.ModelT.InitFromPackedBuf(FP16.read_bytes(), 0)
    name = "face_detector/conv2d_1/Conv2D"
    (t,) = [t for t in m.subgraphs[0].tensors if t.name.decode() == name]
    w = np.asarray(m.buffers[t.buffer].data, np.uint8).view(np.float16).copy()
    w[: w.size // 2] = 0
    m.buffers[t.buffer].data = w.view(np.uint8)
    (row,) = [r for r in inspect(_pack(m))["weights"] if r["tensor"] == name]
    assert row["sparsity"] == pytest.approx(np.count_nonzero(w == 0) / w.size) and row["sparsity"] >= 0.5


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_sparse_tensor_format_read_back(kind):
    content = sparse_models.sparse_fc(kind)
    info = inspect(content)
    fc1 = next(w for w in info["weights"] if "fc1" in w["tensor"])
    assert fc1["sparse"] is not None and "csr" in fc1["sparse"]["format"]
    kernel = sparse_models.pruned_fc1_kernel().T  # TFLite's [out, in]
    assert fc1["shape"] == [64, 64] and fc1["elements"] == 4096
    # density is what is stored; sparsity counts the zeros of the dense tensor it encodes
    assert fc1["sparse"]["density"] == pytest.approx(fc1["sparse"]["stored_values"] / 4096)
    assert fc1["sparsity"] == pytest.approx(np.count_nonzero(kernel == 0) / kernel.size, abs=0.01)
    assert fc1["sparse"]["density"] < 0.4 and fc1["structure"] == "1x4 blocks"
    sb = info["size_breakdown"]
    assert sb["sparse_indices"] == fc1["sparse"]["index_bytes"] > 0
    assert sb["weights"] + sb["other_constants"] + sb["graph_and_metadata"] + sb["sparse_indices"] == len(content)
    if kind == "float":  # the densified values are the pruned weights themselves
        m = load(content)
        t = m.tensors[fc1["index"]]
        assert np.array_equal(densify(t.sparsity, t.shape, t.data), kernel)
        assert fc1["sparse"]["block"] == [1, 4]


def test_custom_ops_marked_and_their_macs_unknown(capsys, tmp_path):
    p = tmp_path / "custom.tflite"
    p.write_bytes(tflite_edit.with_custom_op(FLOAT.read_bytes(), 19, "FaceDetectorPost"))  # the last CONV_2D
    info = inspect(p)
    assert info["custom_ops"] == ["FaceDetectorPost"] and info["macs_unknown_ops"] == 1
    op = info["operators"][19]
    assert op["custom"] and op["op"] == "FaceDetectorPost" and op["macs"] is None
    assert next(r for r in info["op_histogram"] if r["op"] == "FaceDetectorPost")["custom"]
    assert info["total_macs"] == inspect(FLOAT)["total_macs"] - inspect(FLOAT)["operators"][19]["macs"]
    assert main(["inspect", str(p)]) == 0
    text = capsys.readouterr().out
    assert "(1 custom ops unknown)" in text and "custom ops: FaceDetectorPost" in text
    assert "FaceDetectorPost (custom)" in text and "unknown" in text.splitlines()[-2]  # op 19's MACs column


def test_transpose_conv_like_custom_op_has_macs():
    content = tflite_edit.with_custom_op(FLOAT.read_bytes(), 19, "Convolution2DTransposeBias")
    info = inspect(content)
    m = load(content)
    op = m.operators[19]
    w = m.tensors[op.inputs[1]].shape
    assert info["operators"][19]["macs"] == int(np.prod(m.tensors[op.inputs[0]].shape)) * w[0] * w[1] * w[2]
    assert info["macs_unknown_ops"] == 0


def test_external_buffers_read(tmp_path):
    external, moved = tflite_edit.external_buffers(FLOAT.read_bytes())
    a, b = inspect(FLOAT), inspect(external)
    assert moved >= 10 and b["size_breakdown"]["external_buffers"] > 0
    assert [(w["tensor"], w["bytes"], w["sparsity"]) for w in a["weights"]] == \
        [(w["tensor"], w["bytes"], w["sparsity"]) for w in b["weights"]]
    assert a["size_breakdown"]["weights"] == b["size_breakdown"]["weights"]
    p = tmp_path / "ext.tflite"
    p.write_bytes(external)
    assert json.loads(json.dumps(edgelift.inspect(p)))["total_macs"] == a["total_macs"]


def test_external_buffer_past_the_end_refused(tmp_path, capsys):
    external, _ = tflite_edit.external_buffers(FLOAT.read_bytes())
    p = tmp_path / "cut.tflite"
    p.write_bytes(external[:-100])
    assert main(["inspect", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert "past the end of the file" in err and "\n" not in err
