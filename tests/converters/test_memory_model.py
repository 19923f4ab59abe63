"""An in-memory model converts in the TensorFlow child through a private saved copy: a crash is one error, the
caller's model is untouched, nothing is left in $TMPDIR, and a model that cannot be saved and reloaded is
converted in this process with a warning saying why.

The crash is a real one: TensorFlow segfaults calibrating a GRU whose batch size is fixed at 1.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
import warnings

import numpy as np
import pytest

from edgelift import convert
from edgelift._tf import keras
from edgelift.converters import isolated
from edgelift.converters.load import load_model
from edgelift.converters.warn import ConvertWarning
from edgelift.errors import UnsupportedModelError

from .conftest import arrays, tiny


@pytest.fixture
def own_tmpdir(tmp_path, monkeypatch):
    """$TMPDIR of this process (what tempfile uses) as an empty folder the test can look into."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    monkeypatch.delenv("EDGELIFT_CONVERT_IN_PROCESS", raising=False)
    return d


def _left_in(tmpdir) -> list:
    """What a conversion left in `tmpdir`: anything but a live worker's own folder, which must be empty."""
    worker = isolated._worker
    own = worker.tmp if worker is not None and worker.alive() else None
    if own is not None and own.parent == tmpdir:
        assert list(own.iterdir()) == []
    return [p for p in tmpdir.iterdir() if p != own]


def _without(report: dict, *keys: str) -> dict:
    return {k: v for k, v in report.items() if k not in keys}


def test_an_in_memory_model_converts_in_the_child_as_its_saved_file_does(tmp_path, own_tmpdir):
    m = tiny()
    m.save(tmp_path / "tiny.keras")
    cal = arrays(32)[0]
    mem = convert(m, tmp_path / "mem.tflite", calibration=cal, report=tmp_path / "mem.json")
    worker = isolated._worker
    assert worker is not None and worker.alive()  # the child ran it (and serves the next one)
    path = convert(tmp_path / "tiny.keras", tmp_path / "path.tflite", calibration=cal)
    assert (tmp_path / "mem.tflite").read_bytes() == (tmp_path / "path.tflite").read_bytes()
    assert mem.report["source"] == {"model": load_model(m).source, "format": "memory", "keras3": False,
                                    "file_bytes": None, "params": path.report["source"]["params"]}
    assert mem.report["source"]["model"] == "<in-memory Functional 'tiny'>"
    assert _without(mem.report, "source", "seconds", "output") == _without(path.report, "source", "seconds", "output")
    assert mem.warnings == []
    recipe = (tmp_path / "mem.recipe.yaml").read_text()
    assert "model: <Functional>" in recipe and "edgelift-memory" not in recipe
    assert "edgelift-memory" not in (tmp_path / "mem.json").read_text()
    assert json.loads((tmp_path / "mem.json").read_text())["source"]["model"] == "<in-memory Functional 'tiny'>"
    assert _left_in(own_tmpdir) == []


def test_the_callers_model_keeps_its_weights_and_compile_state(tmp_path, own_tmpdir):
    m = tiny()
    m.compile(optimizer=keras().optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = arrays(16)
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)  # an optimizer with state (moments, iterations)
    optimizer, loss = m.optimizer, m.loss
    weights = [w.copy() for w in m.get_weights()]
    opt_state = [v.numpy().copy() for v in optimizer.variables]
    before = _left_in(own_tmpdir)  # the caller's own fit leaves autograph files there
    convert(m, tmp_path / "o.tflite", calibration=x)
    assert _left_in(own_tmpdir) == before
    assert m.optimizer is optimizer and m.loss == loss and m.compiled_metrics is not None
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), weights, strict=True))
    assert all(np.array_equal(v.numpy(), s) for v, s in zip(optimizer.variables, opt_state, strict=True))
    m.fit(x, y, epochs=1, batch_size=8, verbose=0)  # and it still trains where it left off
    assert int(optimizer.iterations.numpy()) == 4


def _gru_batch1():
    L = keras().layers
    return keras().Sequential([L.Input((8, 4), batch_size=1), L.GRU(6), L.Dense(3)], name="gru1")


def test_a_tensorflow_segfault_on_an_in_memory_model_is_one_error_and_this_process_lives(tmp_path, own_tmpdir):
    cal = np.random.default_rng(0).uniform(0, 1, (40, 8, 4)).astype(np.float32)
    with pytest.raises(UnsupportedModelError) as info:
        convert(_gru_batch1(), tmp_path / "g.tflite", calibration=cal, report=tmp_path / "g.json")
    assert info.value.message == ("TensorFlow crashed (SIGSEGV) during calibration and TFLite conversion "
                                  "(--quantize int8) of <in-memory Sequential 'gru1'>; nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]  # no output, report or recipe
    assert _left_in(own_tmpdir) == []  # the saved copy is gone too
    result = convert(tiny(), tmp_path / "next.tflite", calibration=arrays(16)[0])  # a fresh child takes the next
    assert result.size_bytes > 0


def test_ctrl_c_during_an_in_memory_conversion_leaves_nothing_in_tmpdir(tmp_path, own_tmpdir):
    def interrupt_once_handed_over():
        deadline = time.monotonic() + 120
        while not any(own_tmpdir.glob("edgelift-memory-*/model.keras")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # saving or already in the child
        os.kill(os.getpid(), signal.SIGINT)

    # as from a terminal: a suite started in the background (`make test &`) inherits SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Thread(target=interrupt_once_handed_over, daemon=True)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            convert(_gru_batch1(), tmp_path / "o.tflite", quantize="dynamic")
            time.sleep(30)  # finished before the signal came: then the output check below fails
        timer.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert _left_in(own_tmpdir) == []
    assert not (tmp_path / "o.tflite").exists()


class _Doubling(keras().layers.Layer):  # not registered: the child cannot rebuild it from the saved config
    def call(self, x):
        return 2.0 * x


def _custom_layer_model():
    L = keras().layers
    inp = L.Input((4,))
    return keras().Model(inp, L.Dense(2)(_Doubling()(inp)), name="custom")


def _lambda_closure_model():
    L = keras().layers
    scale = 3.0
    inp = L.Input((4,))
    return keras().Model(inp, L.Dense(2)(L.Lambda(lambda x: x * scale)(inp)), name="closure")


@pytest.mark.parametrize("build, why", [(_custom_layer_model, "its saved copy does not load"),
                                        (_lambda_closure_model, "its saved copy does not load")])
def test_a_model_that_cannot_be_reloaded_converts_here_with_a_warning_saying_why(build, why, tmp_path, own_tmpdir):
    m = build()
    cal = np.random.default_rng(0).uniform(-1, 1, (20, 4)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvertWarning)
        result = convert(m, tmp_path / "o.tflite", calibration=cal)
    notes = [str(w.message) for w in caught if issubclass(w.category, ConvertWarning)]
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"<in-memory Functional {m.name!r}> is converted in this process, not in the "
                               f"crash-isolated child: {why} ("), notes
    assert result.report["warnings"] == notes and result.size_bytes > 0
    # the saved copy is gone (TensorFlow's autograph files from converting in this process are its own)
    assert [p.name for p in _left_in(own_tmpdir) if not p.name.startswith("__autograph_generated_file")] == []
