"""Exactness per op on the XLA path (on the CPU here): the sweeps of tests/opcatalogue.py — every int8 input
pair of ADD and MUL, every value of LOGISTIC, HARD_SWISH and SOFTMAX rows, on every code path of LiteRT's
kernels — against LiteRT's builtin kernels, zero tolerance. Also pins the catalogue itself: each binary node
covers all 65,536 pairs and takes the broadcast path it is named for."""

from __future__ import annotations

import numpy as np
import pytest

from tests import artefacts
from tests import opcatalogue as oc
from tests.gpu.conftest import litert_reference

artefacts.jax()

from edgelift.delegates.gpu import GpuEngine  # noqa: E402
from edgelift.delegates.gpu.broadcast import plan  # noqa: E402
from edgelift.tflite_model import load  # noqa: E402


@pytest.mark.parametrize("node", oc.BINARY_NODES, ids=[n.kind for n in oc.BINARY_NODES])
def test_catalogue_nodes_cover_every_pair_on_their_path(node):
    assert oc.pairs_covered(node) == 65536
    category, y = plan((1, *node.a_shape), (1, *node.b_shape))
    assert category == node.category, (node.kind, category, y)
    if node.kind == "inner15":
        assert y[4] == 15
    if node.kind == "inner24":
        assert y[4] == 24
    if node.kind in ("scalar", "scalar_switched"):
        assert (y[4], y[3]) == (1, 256)
    if node.kind == "scalar_tail":
        assert (y[4], y[3]) == (1, 7)


XLA_SWEEPS = (*oc.SWEEPS, oc.FOLDED_ADJ_X_SWEEP, *oc.LAYER_SWEEPS)  # the delegate leaves FOLDED_ADJ_X to the runtime


@pytest.mark.parametrize("sweep", XLA_SWEEPS, ids=[s.id for s in XLA_SWEEPS])
def test_sweep_identical_to_builtin(sweep):
    model = oc.convert(sweep)
    assert oc.swept_ops(sweep, model) == {sweep.op: len(sweep.nodes)}
    rounds = [oc.feeds(sweep, model, r)[0] for r in range(sweep.rounds)]
    xs = [np.concatenate([r[i] for r in rounds]) for i in range(len(rounds[0]))]  # rounds as samples
    eng = GpuEngine(model, batch=sweep.rounds)
    got = eng.predict_raw(xs)
    want = litert_reference(model, xs)
    problems = []
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        for r in range(sweep.rounds):
            line = oc.first_difference(model, [x[r:r + 1] for x in xs], eng.lowered.out_index[k], w[r:r + 1],
                                       g[r:r + 1])
            if line:
                problems.append(f"round {r}: {line}")
    assert not problems, "\n".join(problems)


WEIGHTED = [s for s in oc.LAYER_SWEEPS if s.op not in ("MEAN", "SUM")]


@pytest.mark.parametrize("sweep", WEIGHTED, ids=[s.id for s in WEIGHTED])
def test_weighted_layer_sweep_identical_with_float32_accumulation(sweep):
    """The GPU default (exact float32 chunks instead of XLA's integer convolution), run here on the CPU."""
    model = oc.convert(sweep)
    xs = [np.concatenate([oc.feeds(sweep, model, r)[0][0] for r in range(sweep.rounds)])]
    (got,) = GpuEngine(model, batch=sweep.rounds, accumulate="f32").predict_raw(xs)
    (want,) = litert_reference(model, xs)
    out = load(model).outputs[0]
    assert np.array_equal(got, want), "\n".join(oc.first_difference(model, [x[r:r + 1] for x in xs], out,
                                                                    want[r:r + 1], got[r:r + 1])
                                                 for r in range(sweep.rounds))
