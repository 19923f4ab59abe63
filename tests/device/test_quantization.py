"""One quantization rule (edgelift.quantization) for the desktop, the XLA path and the on-device agent, pinned
against LiteRT's own QUANTIZE on ties and near-ties in its vector body and its scalar tail (the issue that
prompted it: scale 0.5, zero point 1, x = -0.25 quantized to 1, 0 and 0 by three copies of the rule)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgelift import quantization
from edgelift.device.agent import AGENT_FILE
from edgelift.device.runtime import load_interpreter, quantize
from tests import opcatalogue as oc

FLOAT_SWEEPS = [s for s in oc.SWEEPS if s.op == "QUANTIZE" and s.param == "float"]


def _definitions(path) -> dict[str, str]:
    wanted = {"VECTOR_BLOCK", "round_half_away", "quantize", "dequantize"}
    found = {}
    for node in ast.parse(path.read_text()).body:
        name = node.name if isinstance(node, ast.FunctionDef) else (
            node.targets[0].id if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) else None)
        if name in wanted:
            found[name] = ast.dump(node)
    return found


def test_the_agent_carries_the_same_code():
    ours = _definitions(Path(quantization.__file__))
    assert set(ours) == {"VECTOR_BLOCK", "round_half_away", "quantize", "dequantize"}
    assert _definitions(AGENT_FILE) == ours, "device/agent/edgelift_agent.py's copy differs from sdk/quantization.py"


@pytest.mark.parametrize("sweep", FLOAT_SWEEPS, ids=[s.id for s in FLOAT_SWEEPS])
def test_quantize_is_litert_quantize_on_every_tie(sweep):
    model = oc.convert(sweep)
    ref = load_interpreter(model, "builtin")
    d = ref.output_details[0]
    scale = float(d["quantization_parameters"]["scales"][0])
    zp = int(d["quantization_parameters"]["zero_points"][0])
    ties = 0
    for r in range(sweep.rounds):
        xs, _ = oc.feeds(sweep, model, r)
        want = ref.run(xs)[0]
        got = quantization.quantize(xs[0], scale, zp)
        assert np.array_equal(want, got), (r, int((want != got).sum()), np.flatnonzero(want != got)[:5])
        assert np.array_equal(quantize(xs[0], d), want)  # the desktop's wrapper, with the tensor's details
        ties += int(np.sum(np.abs(xs[0] / np.float32(scale) - np.trunc(xs[0] / np.float32(scale))) == 0.5))
    assert ties > 100  # the sweep really puts values on ties (in the body and in the 7-element tail)


def test_the_issue_example_in_the_body_and_the_tail_and_through_the_agent():
    body = np.full((1, 8), -0.25, np.float32)
    assert quantization.quantize(body, 0.5, 1).tolist() == [[1] * 8]  # rint(-0.5) = 0, + 1
    tail = np.full((1, 3), -0.25, np.float32)
    assert quantization.quantize(tail, 0.5, 1).tolist() == [[0] * 3]  # round(-0.5) = -1, + 1
    # the agent's run path quantizes a float .npy with the bundle's input scale through its copy
    code = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); import edgelift_agent as a;"
            "print(a.quantize(np.full((1, 11), -0.25, np.float32), 0.5, 1).tolist())")
    out = subprocess.run([sys.executable, "-c", code, str(AGENT_FILE.parent)], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == [[1] * 8 + [0] * 3]


DEQUANTIZE_SWEEPS = [s for s in oc.SWEEPS if s.op == "DEQUANTIZE"]


@pytest.mark.parametrize("sweep", DEQUANTIZE_SWEEPS, ids=[s.id for s in DEQUANTIZE_SWEEPS])
def test_dequantize_is_litert_dequantize_on_every_int8_value(sweep):
    model = oc.convert(sweep)
    ref = load_interpreter(model, "builtin")
    d = ref.input_details[0]
    scale = float(d["quantization_parameters"]["scales"][0])
    zp = int(d["quantization_parameters"]["zero_points"][0])
    seen = set()
    for r in range(sweep.rounds):
        xs, _ = oc.feeds(sweep, model, r)
        want = ref.run(xs)[0]
        got = quantization.dequantize(xs[0], scale, zp)
        assert got.dtype == want.dtype == np.float32
        assert np.array_equal(want.view(np.int32), got.view(np.int32)), (r, np.flatnonzero(want != got)[:5])
        seen.update(np.unique(xs[0]).tolist())
    assert len(seen) == 256  # every int8 value went through both
