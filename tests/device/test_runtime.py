"""The runtime adapter: real LiteRT interpreters, runtime selection, partition reports, batching, bad models."""

from __future__ import annotations

import numpy as np
import pytest

from edgelift import quantization
from edgelift.device.runtime import (
    available_runtimes,
    get_runtime,
    load_interpreter,
    quantize,
)
from edgelift.errors import (
    DataError,
    InvalidArgumentError,
    InvalidModelError,
    ModelNotFoundError,
    RuntimeUnavailableError,
)


def test_runtime_is_named_with_version():
    assert "litert" in available_runtimes()
    rt = get_runtime()
    assert rt.name == "litert"
    assert str(rt).startswith("ai-edge-litert 2.")
    with pytest.raises(InvalidArgumentError, match="known: litert, tflite_runtime"):
        get_runtime("tensorrt")
    if "tflite_runtime" in available_runtimes():
        assert str(get_runtime("tflite_runtime")).startswith("tflite-runtime ")
    else:
        with pytest.raises(RuntimeUnavailableError, match="tried tflite_runtime"):
            get_runtime("tflite_runtime")


def test_builtin_and_xnnpack_partition(resnet_int8):
    builtin = load_interpreter(resnet_int8, "builtin")
    xnn = load_interpreter(resnet_int8, "xnnpack")
    m = builtin.partition_info.total_nodes
    assert m == 10  # 6 convs (relus fused), 2 adds, mean, fully connected
    assert builtin.partition == f"0 of {m} nodes delegated (builtin kernels run all {m})"
    assert xnn.partition == f"{m} of {m} nodes delegated in 1 partition; not delegated: none"
    assert xnn.partition_info.partitions == [list(range(m))]


def test_partial_delegation_names_the_ops_left_behind(softmax_int8):
    r = load_interpreter(softmax_int8, "xnnpack")
    info = r.partition_info
    ops = dict(info.not_delegated)
    assert "SOFTMAX" in ops.values() and "FULLY_CONNECTED" not in ops.values()
    fc = [i for i, op in enumerate(_op_names(r)) if op == "FULLY_CONNECTED"]
    assert info.partitions == [fc]
    assert r.partition.startswith(f"1 of {info.total_nodes} nodes delegated in 1 partition; not delegated: ")
    assert "SOFTMAX" in r.partition


def _op_names(runner):
    return [o["op_name"] for o in runner.interpreter._get_ops_details() if o["op_name"] != "DELEGATE"]


def test_predict_quantizes_loops_and_matches_single_runs(conv_int8):
    r = load_interpreter(conv_int8, "builtin")
    d_in, d_out = r.input_details[0], r.output_details[0]
    x = np.random.default_rng(1).uniform(-1, 1, (5, 9, 9, 3)).astype(np.float32)
    raw = r.predict_raw(quantize(x, d_in))[0]
    assert raw.dtype == np.int8 and raw.shape == (5, 9, 9, 8)
    for i in range(5):  # one invocation per sample gives the same integers
        single = r.run([quantize(x[i:i + 1], d_in)])[0]
        np.testing.assert_array_equal(single, raw[i:i + 1])
    r.max_batch = 2  # chunks of 2, 2, 1 samples on a dynamic-batch model give the same integers
    np.testing.assert_array_equal(r.predict_raw(quantize(x, d_in))[0], raw)
    scale = d_out["quantization_parameters"]["scales"][0]
    zp = d_out["quantization_parameters"]["zero_points"][0]
    # dequantized by the rule pinned against LiteRT's DEQUANTIZE (tests/device/test_quantization.py), per sample
    np.testing.assert_array_equal(r.predict(x)[0], quantization.dequantize(raw, scale, zp))


def test_bad_inputs_say_what_was_expected(conv_int8):
    r = load_interpreter(conv_int8)
    with pytest.raises(DataError, match=r"got shape \(1, 9, 9, 4\); the model expects \(1, 9, 9, 3\)"):
        r.run([np.zeros((1, 9, 9, 4), np.int8)])
    with pytest.raises(DataError, match="got dtype float32; the model expects int8"):
        r.run([np.zeros((1, 9, 9, 3), np.float32)])
    with pytest.raises(DataError, match=r"samples have shape \(8, 8, 3\)"):
        r.predict(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(DataError, match="1 input"):
        r.run([np.zeros((1, 9, 9, 3), np.int8)] * 2)


def test_bad_model_files(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_interpreter(tmp_path / "none.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(InvalidModelError, match="not a TFLite flatbuffer"):
        load_interpreter(bad)
    with pytest.raises(InvalidArgumentError, match="threads"):
        load_interpreter(bad, threads=0)


