"""A .tflite whose indices point outside its own arrays (a tensor index past the end, an opcode that does not
exist) is refused by every command with one line naming the index and the allowed range."""

from __future__ import annotations

import flatbuffers
import numpy as np
import pytest

from edgelift.cli import main as cli_main
from edgelift.errors import InvalidModelError
from edgelift.tflite_model import TFLiteModel, _schema
from tests import modelkit


def tampered(change) -> bytes:
    m = _schema().ModelT.InitFromPackedBuf(modelkit.cached("int8", modelkit.conv2d), 0)
    change(m.subgraphs[0])
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _input(sg, value):
    op = sg.operators[0]
    ins = np.array(op.inputs).copy()
    ins[0] = value
    op.inputs = ins


CASES = {
    "tensor index past the end": (lambda sg: _input(sg, 999), "operator 0 (CONV_2D) input 0 is 999"),
    "negative output index": (lambda sg: setattr(sg.operators[0], "outputs", np.array([-1])),
                              "operator 0 (CONV_2D) output 0 is -1"),
    "subgraph input past the end": (lambda sg: setattr(sg, "inputs", np.array([50])), "subgraph input 0 is 50"),
    "unknown opcode": (lambda sg: setattr(sg.operators[0], "opcodeIndex", 7), "operator 0's opcode index is 7"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_by_every_command(case, tmp_path, monkeypatch, capsys):
    change, named = CASES[case]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.tflite").write_bytes(tampered(change))
    with pytest.raises(InvalidModelError, match="allowed"):
        TFLiteModel.from_file(tmp_path / "bad.tflite")
    for argv in (["inspect", "bad.tflite"], ["validate", "bad.tflite", "--reference-delegate", "builtin"],
                 ["bench", "bad.tflite", "--runs", "2"], ["bundle", "bad.tflite", "-o", "b"]):
        code = cli_main(argv)
        err = capsys.readouterr().err
        assert code == 2 and "internal error" not in err and len(err.strip().splitlines()) == 1, (argv, err)
        # inspect and bundle (choosing the device delegate) read the file themselves and name the bad index; the
        # others hand it to LiteRT first, whose message names the file
        assert "bad.tflite" in err, (argv, err)
        assert (named in err) if argv[0] in ("inspect", "bundle") else ("cannot" in err), (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.tflite"]
