"""`edgelift convert --max-accuracy-drop / --max-error`: the search end to end through the real CLI, its recipe
replayed with --recipe, a budget no variant meets, and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import yaml

from edgelift.cli import main as cli_main
from edgelift.converters.report import tflite_predict
from edgelift.data import load_data
from tests.converters.search_models import write_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_files(tmp_path_factory.mktemp("search_cli"))


def _accuracy(path, data) -> float:
    d = load_data(data)
    return float(np.mean(tflite_predict(path.read_bytes(), d.x).argmax(1) == d.y))


def test_a_float_tflite_search_moves_a_layer_off_int8_and_its_recipe_replays(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    out = tmp_path / "q.tflite"
    code = cli_main(["convert", "f.tflite", "-o", str(out), "--calibration", "cal.npz", "--eval-data", "eval.npz",
                     "--max-accuracy-drop", "20%"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "precision search:" in stdout and "<- chosen" in stdout and "search [" in err
    recipe = yaml.safe_load((tmp_path / "q.recipe.yaml").read_text())
    moved = {r: m for r, m in recipe["layers"].items() if m != "int8"}
    assert moved and set(moved.values()) <= {"int16x8", "none"}, recipe  # all int8 misses by 32.75 points
    assert 1.0 - _accuracy(out, "eval.npz") <= 0.20  # the float model's accuracy is 100% (its own labels)

    replay = tmp_path / "r.tflite"
    assert cli_main(["convert", "f.tflite", "--recipe", str(tmp_path / "q.recipe.yaml"), "-o", str(replay)]) == 0
    assert replay.read_bytes() == out.read_bytes()


def test_a_keras_search_tries_equalization_and_replays_from_the_keras_model(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    out = tmp_path / "k.tflite"
    code = cli_main(["convert", "o.keras", "-o", str(out), "--calibration", "cal.npz", "--eval-data", "eval.npz",
                     "--max-accuracy-drop", "0.2", "--io", "float32"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "+ equalize" in stdout  # measured: all int8 drops 32.75 points, equalized 9.5 at the same size
    recipe = yaml.safe_load((tmp_path / "k.recipe.yaml").read_text())
    assert recipe["model"].endswith("o.keras") and recipe["equalize"] is True and recipe["io"] == "float32"
    assert 1.0 - _accuracy(out, "eval.npz") <= 0.20
    replay = tmp_path / "kr.tflite"
    assert cli_main(["convert", "o.keras", "--recipe", str(tmp_path / "k.recipe.yaml"), "-o", str(replay)]) == 0
    assert replay.read_bytes() == out.read_bytes()


def test_max_error_without_eval_data_measures_on_the_calibration_inputs(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    code = cli_main(["convert", "f.tflite", "-o", str(tmp_path / "e.tflite"), "--calibration", "cal.npz",
                     "--max-error", "1e9"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "max |output - float| <= 1e+09" in stdout and "1 variant(s)" in stdout  # all int8 meets it
    assert yaml.safe_load((tmp_path / "e.recipe.yaml").read_text())["layers"] == {".*": "int8"}


def test_no_variant_within_budget_writes_nothing_and_exits_1(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    code = cli_main(["convert", "f.tflite", "-o", str(tmp_path / "n.tflite"), "--calibration", "cal.npz",
                     "--eval-data", "eval.npz", "--max-accuracy-drop", "0"])
    _, err = capsys.readouterr()
    assert code == 1
    last = err.strip().splitlines()[-1]
    # measured: even every op float leaves the int8 input's rounding (io int8): 95.25%
    assert last.startswith("error: no variant met the budget (accuracy drop <= 0 points)") and "best found: #" in last
    assert "precision search:" in err and list(tmp_path.iterdir()) == []


def test_ctrl_c_during_the_search_prints_the_best_so_far_and_writes_nothing(tmp_path):
    slow = write_files(tmp_path, eval_copies=100)  # 40,000 eval inputs: each variant takes a while
    env = {k: v for k, v in os.environ.items() if k != "EDGELIFT_CONVERT_IN_PROCESS"}
    proc = subprocess.Popen([sys.executable, "-m", "edgelift", "convert", "f.tflite", "-o", "s.tflite",
                             "--calibration", "cal.npz", "--eval-data", "eval.npz", "--max-accuracy-drop", "0"],
                            cwd=slow, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal
    first = proc.stderr.readline()
    assert first.startswith("search ["), first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    last = err.strip().splitlines()[-1]
    assert proc.returncode == 130, err
    assert last.startswith("error: search interrupted after") and "best so far: #1 all int8" in last, last
    assert "Traceback" not in err
    assert not (slow / "s.tflite").exists() and not (slow / "s.recipe.yaml").exists()
    assert not [p for p in slow.iterdir() if p.name.startswith(".s.")]  # no temporary file left either


def test_search_cost_meters_the_start_and_the_winner_on_the_emulated_pi(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    code = cli_main(["convert", "f.tflite", "-o", str(tmp_path / "c.tflite"), "--calibration", "cal.npz",
                     "--max-error", "1e9", "--search-cost", "--io", "float32"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    row = next(ln for ln in stdout.splitlines() if "all int8" in ln)
    assert "Pi 4 cost (est.)" in stdout and re.search(r"\d+\.\d{3} ms est\.", row), stdout
