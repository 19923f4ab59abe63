"""Shape inference and int32 folding in the NEON delegate (delegates/neon/src/shape_infer.c), FILL and the int32
shape ops, against LiteRT's builtin kernels on graphs written with the schema (tests/shapemodels.py): every
int8 FILL value over several quantizations, int32 FILL, a dynamic-batch graph that computes its reshapes from
SHAPE (placeholder shapes in the file) at batch 1 and resized to 3 and 4, and what stays with the runtime."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests import shapemodels as sm
from tests.neon import harness

LINE = re.compile(r"edgelift-neon: (\d+) of (\d+) nodes delegated in (\d+) partitions[^\n]*")


def _neon(blob: bytes, lib: str, capfd) -> tuple[object, str]:
    harness._delegate.cache_clear()
    it = harness.interpreter(blob, lib, log_level="info")
    m = LINE.search(capfd.readouterr().err)
    assert m, "no partition line"
    return it, m.group(0)


def _all_claimed(line: str) -> None:
    m = LINE.match(line)
    assert m.group(1) == m.group(2) and m.group(3) == "1", line


def _run(it, feeds: list[np.ndarray]) -> list[np.ndarray]:
    for d, x in zip(it.get_input_details(), feeds, strict=True):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


@pytest.mark.parametrize("quant", [(0.1, 3), (0.003, -128), (2.0, 127)], ids=["mid", "zp-128", "zp127"])
def test_int8_fill_is_identical_to_builtin_for_every_value(quant, neon_lib, capfd):
    blob = sm.fill(quant, quant)
    neon, line = _neon(blob, neon_lib, capfd)
    _all_claimed(line)
    ref = harness.interpreter(blob)
    for v in range(-128, 128):
        want, got = _run(ref, [np.array(v, np.int8)])[0], _run(neon, [np.array(v, np.int8)])[0]
        assert want.shape == got.shape == (2, 3, 5) and np.array_equal(want, got), v
        assert (got == v).all()


def test_int32_fill_is_identical_to_builtin(neon_lib, capfd):
    blob = sm.fill_int32()
    neon, line = _neon(blob, neon_lib, capfd)
    _all_claimed(line)
    ref = harness.interpreter(blob)
    for v in (0, 1, -1, 12345, 2**31 - 1, -(2**31)):
        want, got = _run(ref, [np.array(v, np.int32)])[0], _run(neon, [np.array(v, np.int32)])[0]
        assert want.shape == got.shape == (4, 7) and np.array_equal(want, got), v


def test_int8_fill_with_another_quantization_is_left_to_the_runtime(neon_lib, capfd):
    # the builtin refuses it too (its prepare requires equal scale and zero point): nothing to compute
    with pytest.raises(RuntimeError, match="FILL"):
        _neon(sm.fill((0.1, 3), (0.2, 3)), neon_lib, capfd)
    assert "FILL x1 (value and output quantization differ)" in capfd.readouterr().err


def test_int32_concatenation_and_reshape_of_run_time_data_are_identical_to_builtin(neon_lib, capfd):
    blob = sm.int32_data_ops()
    neon, line = _neon(blob, neon_lib, capfd)
    _all_claimed(line)
    ref = harness.interpreter(blob)
    rng = np.random.default_rng(32)
    for _ in range(3):
        xs = [rng.integers(-(2**31), 2**31, (3, 2), dtype=np.int64).astype(np.int32),
              rng.integers(-(2**31), 2**31, (3, 5), dtype=np.int64).astype(np.int32)]
        want, got = _run(ref, xs), _run(neon, xs)
        for w, g in zip(want, got, strict=True):
            assert w.shape == g.shape and np.array_equal(w, g)
        assert np.array_equal(got[0], np.concatenate(xs, axis=1))


@pytest.mark.parametrize("batch", [1, 3, 4])
def test_a_dynamic_batch_graph_is_delegated_whole_and_exact_at_every_batch(batch, neon_lib, capfd):
    blob = sm.dynamic_reshapes(rows=6, cols=4)
    neon, line = _neon(blob, neon_lib, capfd)
    _all_claimed(line)
    ref = harness.interpreter(blob)
    for it in (ref, neon):
        it.resize_tensor_input(it.get_input_details()[0]["index"], [batch, 6, 4])
        it.allocate_tensors()
    rng = np.random.default_rng(batch)
    for _ in range(2):
        x = rng.integers(-128, 128, (batch, 6, 4)).astype(np.int8)
        want, got = _run(ref, [x]), _run(neon, [x])
        for w, g in zip(want, got, strict=True):
            assert w.shape == g.shape and w.dtype == g.dtype and np.array_equal(w, g)
        boxes, box_shape, count, gamma, kept = got
        assert boxes.shape == (batch, 12, 2) and np.array_equal(boxes.reshape(x.shape), x)
        assert box_shape.tolist() == [batch, -1, 2] and count.tolist() == kept.tolist() == [24]
        assert gamma.shape == (24,) and (gamma == 7).all()


def test_a_shape_known_only_at_run_time_stays_with_the_runtime(neon_lib, capfd):
    blob = sm.runtime_shape_reshape()
    neon, line = _neon(blob, neon_lib, capfd)
    assert line.startswith("edgelift-neon: 0 of 1 nodes") and "RESHAPE x1 (int32 inputs not constant" in line
    ref = harness.interpreter(blob)
    x = np.arange(6, dtype=np.int8)[None]
    for shape in ([2, 3], [3, 2], [6, 1]):
        want = _run(ref, [x, np.array(shape, np.int32)])[0]
        got = _run(neon, [x, np.array(shape, np.int32)])[0]
        assert want.shape == got.shape == tuple(shape) and np.array_equal(want, got)


def _resize(it, batch: int) -> None:
    d = it.get_input_details()[0]
    it.resize_tensor_input(d["index"], [batch, *d["shape"][1:]])
    it.allocate_tensors()


def test_one_delegate_serves_interpreters_at_different_batches(neon_lib):
    # harness.interpreter shares one delegate object between these (lru_cache): each interpreter keeps its
    # own inferred shapes and folded vectors, and freeing one leaves the other's in place
    import gc

    from tests import zoo

    harness._delegate.cache_clear()
    models = {"shapes": sm.dynamic_reshapes(), "unet": zoo.tflite("unet")}
    neon = {(m, b): harness.interpreter(blob, neon_lib) for m, blob in models.items() for b in (4, 2)}
    ref = {(m, b): harness.interpreter(blob) for m, blob in models.items() for b in (4, 2)}
    for key in neon:
        _resize(neon[key], key[1])
        _resize(ref[key], key[1])
    rng = np.random.default_rng(7)

    def check_all() -> None:
        for key in neon:  # interleaved: each one prepared before the others ran
            x = rng.integers(-128, 128, ref[key].get_input_details()[0]["shape"]).astype(np.int8)
            for w, g in zip(harness.run(ref[key], [x]), harness.run(neon[key], [x]), strict=True):
                assert w.shape == g.shape and np.array_equal(w, g), key

    check_all()
    del neon[("shapes", 4)], neon[("unet", 4)]
    gc.collect()
    for key in neon:
        _resize(neon[key], 3)
        _resize(ref[key], 3)
    check_all()
