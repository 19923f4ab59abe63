"""A model whose ADD TFLite's kernels would abort on (exit 134, no message) is refused with the node named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.device.runtime import load_interpreter
from edgelift.device.runtime.prechecks import ADD_LEFT_SHIFT
from edgelift.errors import InvalidModelError
from edgelift.tflite_model import load
from tests import modelkit


def cancelling_add():
    """x + (-x): the output is always zero, so calibration gives it a degenerate scale (~1e-8)."""
    from edgelift._tf import keras

    k = keras()
    x = k.layers.Input((4, 4, 3))
    a = k.layers.Conv2D(4, 1, name="conv")(x)
    return k.Model(x, k.layers.Add(name="cancel")([a, k.layers.Rescaling(-1.0)(a)]))


@pytest.fixture(scope="module")
def degenerate():
    return modelkit.cached("int8", cancelling_add)


def _with_output_scale(content: bytes, factor: float) -> bytes:
    """The model with the ADD's output scale set to `factor` times the smallest scale TFLite accepts."""
    m = load(content)
    op = next(o for o in m.operators if o.op_name == "ADD")
    a, b, out = (m.tensors[i] for i in (*op.inputs, op.outputs[0]))
    old = np.float32(out.scales[0]).tobytes()
    assert content.count(old) == 1
    limit = 2.0 * max(float(a.scales[0]), float(b.scales[0])) / (1 << ADD_LEFT_SHIFT)
    return content.replace(old, np.float32(limit * factor).tobytes())


def _litert_runs(content: bytes, tmp_path) -> int:
    """Exit status of a bare LiteRT builtin interpreter loading the model in its own process."""
    path = tmp_path / "probe.tflite"
    path.write_bytes(content)
    code = ("from ai_edge_litert.interpreter import Interpreter, OpResolverType\n"
            f"i = Interpreter(model_path={str(path)!r}, "
            "experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)\n"
            "i.allocate_tensors(); i.invoke()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode


def test_degenerate_add_is_refused_with_the_node_named(degenerate):
    with pytest.raises(InvalidModelError) as e:
        load_interpreter(degenerate, "builtin")
    msg = str(e.value)
    assert "node 2 (ADD) has output scale" in msg and "abort the process" in msg and "calibrat" in e.value.hint


@pytest.mark.parametrize("command", [["bench", "--runs", "2"], ["validate", "--reference-delegate", "builtin"],
                                     ["bundle", "--target", "rpi4", "-o", "{tmp}/b"]])
def test_cli_exits_2_instead_of_aborting(degenerate, tmp_path, capsys, command):
    model = tmp_path / "m.tflite"
    model.write_bytes(degenerate)
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    assert main([args[0], str(model), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert "(ADD) has output scale" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_the_limit_is_tflites_own(degenerate, tmp_path):
    """Just above the limit LiteRT runs the model and edgelift lets it; just below, LiteRT aborts (SIGABRT)."""
    above, below = _with_output_scale(degenerate, 1.001), _with_output_scale(degenerate, 0.999)
    assert _litert_runs(above, tmp_path) == 0
    load_interpreter(above, "builtin").close()
    assert _litert_runs(below, tmp_path) == -6
    with pytest.raises(InvalidModelError, match="abort the process"):
        load_interpreter(below, "builtin")


def test_convert_refuses_to_emit_it(tmp_path):
    out = tmp_path / "m.tflite"
    x = np.random.default_rng(0).uniform(-1, 1, (32, 4, 4, 3)).astype(np.float32)
    with pytest.raises(InvalidModelError, match=r"the converted model: node \d+ \(ADD\)"):
        edgelift.convert(cancelling_add(), out, quantize="int8", calibration=x)
    assert not out.exists() and not list(tmp_path.iterdir())
