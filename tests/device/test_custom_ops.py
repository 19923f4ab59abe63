"""Models with custom operators no runtime here implements: bench, validate and bundle all refuse them with the
same message (naming the op) and the same exit code, before any delegate is tried; nothing is written."""

from __future__ import annotations

import pytest

import edgelift
from edgelift.cli import main
from edgelift.errors import CustomOpError
from tests import modelkit
from tests.custom_op_model import CUSTOM_CODE, with_custom_op


@pytest.fixture(scope="module")
def custom_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("custom") / "custom.tflite"
    path.write_bytes(with_custom_op(modelkit.cached("float", modelkit.dense)))
    return path


@pytest.mark.parametrize("args", [
    ["bench", "{m}", "--delegate", "builtin,xnnpack", "--runs", "2"],
    ["validate", "{m}", "--delegate", "xnnpack", "--reference-delegate", "builtin"],
    ["bundle", "{m}", "--target", "x86_64", "-o", "{out}"],
])
def test_every_command_names_the_custom_op(custom_model, tmp_path, capsys, args):
    out = tmp_path / "out.bundle"
    code = main([a.format(m=custom_model, out=out) for a in args])
    err = capsys.readouterr().err
    assert code == CustomOpError.exit_code == 2, err
    assert f"1 custom operator node(s) ('{CUSTOM_CODE}')" in err and "builtin kernels do not implement" in err, err
    assert "--delegate builtin" not in err and "Traceback" not in err
    assert not out.exists()


def test_the_api_raises_the_typed_error(custom_model):
    with pytest.raises(CustomOpError, match=CUSTOM_CODE):
        edgelift.bench(custom_model, delegates="builtin", runs=1)


def test_the_same_model_without_the_custom_op_runs(tmp_path):
    model = tmp_path / "dense.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.dense))
    assert edgelift.bench(model, delegates="builtin", runs=1).as_dict()["configs"][0]["runs"] == 1
