"""convert's TensorFlow steps run in a child: a crash inside TensorFlow is one error line, and nothing is left.

The crash is a real one: TensorFlow segfaults calibrating a GRU whose batch size is fixed at 1. The API's side of
a crash (the error raised, the next conversion served by a fresh worker) is tested on an in-memory model, in
test_memory_model.py: each crash costs the suite a worker start (TensorFlow's import).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from edgelift import convert
from edgelift._tf import keras
from edgelift.converters import isolated
from edgelift.converters.warn import ConvertWarning
from edgelift.errors import UnsupportedModelError

from .conftest import SHAPE


@pytest.fixture(scope="module")
def gru_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gru")
    L = keras().layers
    crashing = keras().Sequential([L.Input((8, 4), batch_size=1), L.GRU(6), L.Dense(3)])
    crashing.save(d / "gru_batch1.keras")
    rejected = keras().Sequential([L.Input((8, 4)), L.GRU(6), L.Dense(3)])  # TFLite refuses its TensorList
    rejected.save(d / "gru_dynamic.keras")
    np.savez(d / "cal.npz", x=np.random.default_rng(0).uniform(0, 1, (40, 8, 4)).astype(np.float32))
    return d


def _edgelift(args, cwd, tmpdir):
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    env.pop("EDGELIFT_CONVERT_IN_PROCESS", None)
    return subprocess.run([sys.executable, "-m", "edgelift", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_tensorflow_segfault_is_one_line_nothing_written_nothing_left_in_tmpdir(gru_files, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    before = sorted(p.name for p in gru_files.iterdir())
    r = _edgelift(["convert", "gru_batch1.keras", "-o", "out.tflite", "--calibration", "cal.npz",
                   "--report", "r.json"], gru_files, tmpdir)
    assert r.returncode == 2, r
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: TensorFlow crashed (SIGSEGV) during calibration and TFLite conversion "
                               "(--quantize int8) of 'gru_batch1.keras'; nothing was written"), lines
    assert "Traceback" not in r.stderr + r.stdout
    assert sorted(p.name for p in gru_files.iterdir()) == before  # no output, report or recipe
    assert list(tmpdir.iterdir()) == []


def test_errors_and_warnings_from_the_child_reach_the_caller_as_before(gru_files, tmp_path, model_file, data_dir):
    with pytest.raises(UnsupportedModelError, match=r"^the TFLite converter rejected the model with --quantize "
                                                    r"int8: 'tf.TensorListReserve'") as info:
        convert(gru_files / "gru_dynamic.keras", tmp_path / "g.tflite", calibration=gru_files / "cal.npz")
    assert "--quantize dynamic" in info.value.hint
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvertWarning)
        convert(model_file, tmp_path / "w.tflite", calibration=data_dir / "calib.npy", calibration_samples=200)
    assert any("fewer than the 200 requested" in str(w.message) for w in caught)


def test_one_worker_serves_every_conversion_and_its_tmpdir_is_emptied(tmp_path, model_file, data_dir):
    for name in ("one", "two"):
        convert(model_file, tmp_path / f"{name}.tflite", calibration=data_dir / "calib.npy")
        worker = isolated._worker
        assert worker is not None and worker.alive()
        assert list(worker.tmp.iterdir()) == []  # TensorFlow's autograph and SavedModel files are gone
        if name == "one":
            first = worker.proc.pid
    assert worker.proc.pid == first


def test_relative_paths_resolve_in_the_callers_folder(tmp_path, model_file, data_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "cal.npy", np.random.default_rng(1).uniform(0, 1, (20, *SHAPE)).astype(np.float32))
    convert(str(model_file), "rel.tflite", calibration="cal.npy")
    assert (tmp_path / "rel.tflite").stat().st_size > 0


def _workers_using(tmpdir) -> list[int]:
    """Pids of conversion workers whose TMPDIR lies under `tmpdir`."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"edgelift.converters.child_worker" in cmd and f"TMPDIR={tmpdir}/".encode() in env:
            pids.append(int(proc.name))
    return pids


def test_ctrl_c_stops_the_worker_and_leaves_nothing(gru_files, tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    env.pop("EDGELIFT_CONVERT_IN_PROCESS", None)
    proc = subprocess.Popen([sys.executable, "-m", "edgelift", "convert", "gru_dynamic.keras", "-o",
                             str(tmp_path / "o.tflite"), "--quantize", "dynamic"], cwd=gru_files, env=env,
                            stderr=subprocess.PIPE, text=True,
                            # as from a terminal: a suite started in the background (`make test &`) ignores
                            # SIGINT, and a process started with it ignored keeps ignoring it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not _workers_using(tmpdir) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert _workers_using(tmpdir), "the worker never started"
    time.sleep(0.3)  # inside the worker's imports (TensorFlow takes seconds; the whole conversion ~2 s when warm)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip().splitlines()[-1] == "aborted", err
    assert "Traceback" not in err
    assert not (tmp_path / "o.tflite").exists() and list(tmpdir.iterdir()) == []
    assert _workers_using(tmpdir) == []
