"""BATCH_MATMUL nodes the delegate leaves to the runtime: an adj_x LHS against an RHS [.., 1, k, n], where the
builtin folds the LHS's rows and tflite-runtime 2.14 gives other values than LiteRT 2.3 (tests/opcatalogue.py,
FOLDED_ADJ_X_SWEEP). The partition line names the reason, and the model's outputs stay the builtin's."""

from __future__ import annotations

import re

import numpy as np

from tests import opcatalogue as oc
from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions(.*)")


def test_folded_adj_x_is_left_with_its_reason_and_stays_exact(neon_lib, capfd):
    sweep = oc.FOLDED_ADJ_X_SWEEP
    model = oc.convert(sweep)
    assert oc.op_histogram(model) == {"BATCH_MATMUL": len(sweep.nodes)}
    harness._delegate.cache_clear()
    neon = harness.interpreter(model, neon_lib, log_level="info")
    m = LINE.search(capfd.readouterr().err)
    assert m and m.group(1) == "0" and m.group(2) == str(len(sweep.nodes)), m and m.group(0)
    assert "BATCH_MATMUL x2 (adj_x with an RHS [.., 1, k, n]" in m.group(4), m.group(0)
    ref = harness.interpreter(model)
    for r in range(sweep.rounds):
        xs, _ = oc.feeds(sweep, model, r)
        for want, got in zip(harness.run(ref, xs), harness.run(neon, xs), strict=True):
            assert np.array_equal(want, got)
