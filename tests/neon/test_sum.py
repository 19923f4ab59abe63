"""SUM in the NEON delegate beyond the catalogue's batch-1 sweeps (tests/opcatalogue.py LAYER_SWEEPS): the
shape rule at other batches (a dynamic-batch model resized, the batch axis reduced or kept), and the variant
left to the runtime with its reason (no axis: the builtin's copy path)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests import opcatalogue as oc
from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions[^\n]*")


def _sweep(sweep_id: str) -> oc.Sweep:
    return next(s for s in oc.LAYER_SWEEPS if s.id == sweep_id)


def _neon(blob: bytes, lib: str, capfd):
    harness._delegate.cache_clear()
    it = harness.interpreter(blob, lib, log_level="info")
    m = LINE.search(capfd.readouterr().err)
    assert m, "no partition line"
    return it, m


def _at_batch(it, batch: int):
    d = it.get_input_details()[0]
    it.resize_tensor_input(d["index"], [batch, *d["shape"][1:]])
    it.allocate_tensors()
    return it


@pytest.mark.parametrize("sweep_id", ["sum-all_keep_in-1_1", "sum-all_in0_6", "sum-negative_tightout_in-1_1",
                                      "sum-tokens_in-1_2"])
@pytest.mark.parametrize("batch", [3, 4])
def test_sum_is_identical_to_builtin_at_other_batches(sweep_id, batch, neon_lib, capfd):
    blob = oc.convert(_sweep(sweep_id))
    neon, m = _neon(blob, neon_lib, capfd)
    assert m.group(1) == m.group(2) == "1", m.group(0)
    ref = _at_batch(harness.interpreter(blob), batch)
    _at_batch(neon, batch)
    shape = tuple(ref.get_input_details()[0]["shape"])
    rng = np.random.default_rng(batch)
    for _ in range(3):
        x = rng.integers(-128, 128, shape).astype(np.int8)
        (want,), (got,) = harness.run(ref, [x]), harness.run(neon, [x])
        assert want.shape == got.shape and np.array_equal(want, got), (want.shape, got.shape)


def _without_axes(blob: bytes) -> bytes:
    """The SUM model with an empty axis tensor (shape [0])."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(blob, 0)
    sg = m.subgraphs[0]
    axes = sg.tensors[int(sg.operators[0].inputs[1])]
    axes.shape, axes.shapeSignature = [0], None
    m.buffers[axes.buffer].data = []
    out = sg.tensors[int(sg.operators[0].outputs[0])]
    out.shape = list(sg.tensors[int(sg.operators[0].inputs[0])].shape)
    out.shapeSignature = None
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_sum_over_no_axis_stays_with_the_runtime(neon_lib, capfd):
    blob = _without_axes(oc.convert(_sweep("sum-channels_keep_in0_6")))
    _, m = _neon(blob, neon_lib, capfd)
    assert m.group(1) == "0" and "SUM x1 (no axis" in m.group(0), m.group(0)
