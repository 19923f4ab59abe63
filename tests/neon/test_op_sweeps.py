"""Exactness per op, not per model: every int8 input pair (ADD, MUL) or value (LOGISTIC, HARD_SWISH, SOFTMAX
rows) through the NEON delegate (x86-64 build, load_delegate) against LiteRT's builtin kernels, zero tolerance,
over the scale/zero-point combinations and code paths of tests/opcatalogue.py. Each sweep also asserts that the
delegate claimed every node, so an unclaimed op cannot pass."""

from __future__ import annotations

import re

import pytest

from tests import opcatalogue as oc
from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions")


# auto: the best variants this CPU has (AVX2 on most x86-64 machines, NEON on a Pi); scalar: the portable ones;
# 2 threads: same-shape ADD / MUL split into chunks across the pool
@pytest.mark.parametrize("kernels,threads", [("auto", 1), ("scalar", 1), ("auto", 2)])
@pytest.mark.parametrize("sweep", oc.SWEEPS + oc.LAYER_SWEEPS, ids=[s.id for s in oc.SWEEPS + oc.LAYER_SWEEPS])
def test_sweep_identical_to_builtin(sweep, kernels, threads, neon_lib, capfd):
    model = oc.convert(sweep)
    assert oc.swept_ops(sweep, model) == {sweep.op: len(sweep.nodes)}
    harness._delegate.cache_clear()
    neon = harness.interpreter(model, neon_lib, kernels=kernels, log_level="info", threads=threads)
    m = LINE.search(capfd.readouterr().err)
    # every node claimed: the swept ones and the int32 shape arithmetic some converters put in front of them
    assert m and m.group(1) == m.group(2) == str(sum(oc.op_histogram(model).values())), m and m.group(0)
    ref = harness.interpreter(model)
    outs = [d["index"] for d in ref.get_output_details()]
    problems = []
    for r in range(sweep.rounds):
        xs, _ = oc.feeds(sweep, model, r)
        for t, want, got in zip(outs, harness.run(ref, xs), harness.run(neon, xs), strict=True):
            line = oc.first_difference(model, xs, t, want, got)
            if line:
                problems.append(f"round {r}: {line}")
    assert not problems, "\n".join(problems)
