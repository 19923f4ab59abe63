"""`edgelift inspect`: real int8 conversions read back; errors on files that are not models."""

import json

import numpy as np
import pytest

from edgelift.cli import main
from edgelift.inspection import block_structure, inspect
from tests import modelkit


@pytest.fixture(scope="module")
def resnet_path(tmp_path_factory):
    p = tmp_path_factory.mktemp("inspect") / "resnet.tflite"
    p.write_bytes(modelkit.cached("int8", modelkit.small_resnet))
    return p


def test_ops_io_macs_and_sizes(resnet_path):
    info = inspect(resnet_path)
    hist = {row["op"]: row["count"] for row in info["op_histogram"]}
    assert hist == {"CONV_2D": 6, "ADD": 2, "MEAN": 1, "FULLY_CONNECTED": 1}
    (inp,) = info["inputs"]
    assert inp["shape"] == [1, 32, 32, 3] and inp["dtype"] == "INT8" and inp["quantization"]["zero_point"]
    # first conv: 32x32 outputs x 16 channels x (3x3x3) taps
    assert info["operators"][0]["macs"] == 32 * 32 * 16 * 27
    assert info["total_macs"] == sum(o["macs"] for o in info["operators"])
    conv_weights = [w for w in info["weights"] if w["op"] == "CONV_2D"]
    assert len(conv_weights) == 6 and all(w["dtype"] == "INT8" for w in conv_weights)
    sb = info["size_breakdown"]
    assert sb["weights"] + sb["other_constants"] + sb["graph_and_metadata"] == info["size_bytes"]
    assert sb["weights"] == sum(w["elements"] for w in info["weights"])  # int8: one byte per weight


def test_block_structure_names_the_pattern():
    rng = np.random.default_rng(0)
    w = rng.integers(1, 100, (8, 3, 3, 16)).astype(np.int8)  # conv [O, KH, KW, I]
    w[..., 4:8] = 0  # whole 1x4 blocks along input channels
    assert block_structure(w, "CONV_2D") in ("1x4 blocks", "2x4 blocks", "4x4 blocks", "8x1 blocks")
    assert "blocks" in block_structure(w, "CONV_2D")
    w[0, 0, 0, 0] = 0  # a stray zero from int8 rounding does not hide the blocks
    assert "blocks" in block_structure(w, "CONV_2D")
    fc = rng.integers(1, 100, (4, 8)).astype(np.int8)
    fc[:, ::2] = 0  # exactly half of each group of 4 zero, not in blocks
    fc[:, 1::4] = 0
    fc[:, 3::4] = 5
    assert block_structure(fc, "FULLY_CONNECTED") in ("2:4", "4x1 blocks")
    dense = rng.integers(1, 100, (4, 8)).astype(np.int8)
    assert block_structure(dense, "FULLY_CONNECTED") is None
    dense[0, 0] = 0
    assert block_structure(dense, "FULLY_CONNECTED") is None  # a stray zero is no structure


def test_cli_text_and_json(resnet_path, capsys):
    assert main(["inspect", str(resnet_path)]) == 0
    out = capsys.readouterr().out
    assert "CONV_2D" in out and "MACs" in out and "weight sparsity" in out
    assert main(["inspect", str(resnet_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_macs"] > 0


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        (b"hello, I am a text file, not a model at all", "is not a TFLite flatbuffer"),
        ("truncate", "corrupt or truncated"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, resnet_path, capsys, content, message):
    p = tmp_path / "m.tflite"
    if content == "truncate":
        p.write_bytes(resnet_path.read_bytes()[:600])
    elif content is not None:
        p.write_bytes(content)
    assert main(["inspect", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
