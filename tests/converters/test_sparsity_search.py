"""`edgelift convert --prune S --max-accuracy-drop P`: the sparsity search end to end through the real CLI on the
MLP of `sparsity_models.py` (one-shot pruning: deterministic, seconds), its recipe replayed, a budget nothing
meets, fine-tuning inside the search, the move order, and Ctrl-C."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from edgelift.cli import main as cli_main
from edgelift.converters.precision_search import SearchInterrupted
from edgelift.converters.report import tflite_predict
from edgelift.converters.sparsity_search import moves
from edgelift.data import load_data
from tests.converters.sparsity_models import write_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_files(tmp_path_factory.mktemp("sparsity_search"))


def _accuracy(path, data) -> float:
    d = load_data(data)
    return float(np.mean(tflite_predict(path.read_bytes(), d.x).argmax(1) == d.y))


def test_moves_halve_the_worst_first_then_keep_dense():
    start = {"a": 0.9, "b": 0.8, "c": 0.0}
    assert moves(["b", "a", "c"], start, "block") == [("b", 0.4), ("a", 0.45), ("b", 0.0), ("a", 0.0)]
    assert moves(["b", "a"], {"a": 0.5, "b": 0.5}, "2:4") == [("b", 0.0), ("a", 0.0)]  # 2:4 is half or dense


def test_the_search_lowers_the_worst_layers_sparsity_and_its_recipe_replays(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    out = tmp_path / "s.tflite"
    code = cli_main(["convert", "m.keras", "-o", str(out), "--calibration", "cal.npz", "--eval-data", "eval.npz",
                     "--prune", "0.9", "--max-accuracy-drop", "12%", "--report", str(tmp_path / "r.json")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "sparsity search:" in stdout and "<- chosen" in stdout and "pruned P1" in err
    # measured: all at 0.9 drops 37 points; pruned alone, d2 costs 21 and d1 11.75, so d2 is relaxed first
    assert re.search(r"worst first.*: d2 .*, d1 ", stdout), stdout
    assert "P1 + d2 0.45" in stdout and "each pruning one shot (no --train-data: not fine-tuned)" in stdout
    recipe = yaml.safe_load((tmp_path / "s.recipe.yaml").read_text())
    own = recipe["prune_layers"]
    assert set(own) == {"d1", "d2"} and own["d2"] < 0.9 and recipe["prune"] == 0.9, recipe
    assert 1.0 - _accuracy(out, "eval.npz") <= 0.12  # the float model's accuracy is 100% (its own labels)
    import json

    report = json.loads((tmp_path / "r.json").read_text())
    assert report["search"]["sparsity"]["chosen"] >= 2 and report["search"]["sparsity"]["ranking"][0]["layer"] == "d2"

    replay = tmp_path / "again.tflite"  # one-shot pruning is deterministic: the same bytes
    assert cli_main(["convert", "--recipe", str(tmp_path / "s.recipe.yaml"), "-o", str(replay)]) == 0
    assert replay.read_bytes() == out.read_bytes()


def test_no_variant_within_budget_writes_nothing_and_exits_1(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    code = cli_main(["convert", "m.keras", "-o", str(tmp_path / "n.tflite"), "--calibration", "cal.npz",
                     "--prune", "0.75", "--max-error", "0"])  # int8 is never exact: every move is tried
    _, err = capsys.readouterr()
    assert code == 1
    assert "no variant met the budget (max |output - float| <= 0) in 5 pruned variant(s)" in err
    assert "nothing was written" in err and "\n" not in err.strip().splitlines()[-1]
    assert not list(tmp_path.iterdir())


def test_the_search_fine_tunes_each_pruning_on_training_data(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    out = tmp_path / "t.tflite"
    code = cli_main(["convert", "m.keras", "-o", str(out), "--calibration", "cal.npz", "--eval-data", "eval.npz",
                     "--train-data", "eval.npz", "--epochs", "1", "--prune", "0.5", "--prune-kind", "block",
                     "--block", "1x4", "--max-accuracy-drop", "30%"])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "each pruning fine-tuned 1 epoch(s) on eval.npz\n" in stdout  # labels: no distillation
    recipe = yaml.safe_load((tmp_path / "t.recipe.yaml").read_text())
    assert recipe["train_data"] == str((files / "eval.npz").resolve()) and recipe["epochs"] == 1
    assert recipe["prune_kind"] == "block" and recipe["block"] == "1x4"


def test_distillation_fine_tunes_each_pruning_on_data_without_labels(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(files)
    out = tmp_path / "d.tflite"
    code = cli_main(["convert", "m.keras", "-o", str(out), "--calibration", "cal.npz", "--train-data", "cal.npz",
                     "--epochs", "1", "--prune", "0.75", "--distill", "--teacher", "m.keras", "--max-error", "3",
                     "--report", str(tmp_path / "r.json")])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert ("each pruning fine-tuned 1 epoch(s) on cal.npz; distilled from m.keras (temperature 2, alpha 1: soft "
            "targets only: the training data has no labels)") in stdout
    import json

    tuned = json.loads((tmp_path / "r.json").read_text())["search"]["sparsity"]["fine_tuning"]
    assert tuned["epochs"] == 1 and tuned["distill"]["alpha"] == 1.0 and tuned["distill"]["labels"] is False
    recipe = yaml.safe_load((tmp_path / "d.recipe.yaml").read_text())
    assert recipe["distill"] is True and recipe["teacher"] == str((files / "m.keras").resolve())
    replay = tmp_path / "again.tflite"  # fine-tuning is not bit-reproducible: the recipe reruns it
    assert cli_main(["convert", "--recipe", str(tmp_path / "d.recipe.yaml"), "-o", str(replay)]) == 0
    assert replay.stat().st_size == out.stat().st_size  # the same graph, the same per-op modes


@pytest.mark.parametrize("args, named", [
    (["--prune", "0.5", "--train-data", "cal.npz"], "has no labels — save it as .npz with arrays x and y, or as an "
                                                    "image folder per class, or add --distill"),
    (["--train-data", "eval.npz"], "--train-data without --prune in a precision search"),
    (["--target", "rpi4"], "--target without --prune in a precision search"),
    (["--prune", "0.5", "--cluster", "8"], "--cluster cannot be combined with a precision search"),
    (["--prune", "0.5", "--prune-layers", "d9=0.5"], "--prune-layers 'd9' matches no layer"),
])
def test_refusals_name_the_flag_and_write_nothing(files, tmp_path, capsys, monkeypatch, args, named):
    monkeypatch.chdir(files)
    code = cli_main(["convert", "m.keras", "-o", str(tmp_path / "b.tflite"), "--calibration", "cal.npz",
                     "--max-error", "1", *args])
    _, err = capsys.readouterr()
    assert code == 2 and named in err, err
    assert not list(tmp_path.iterdir())


def test_ctrl_c_names_the_best_pruned_variant_so_far(files):
    from edgelift.converters import keras_layers
    from edgelift.converters.convert_options import ConvertOptions
    from edgelift.converters.precision_search import Evaluator
    from edgelift.converters.sparsity_convert import search_pruned

    opts = ConvertOptions.build(str(files / "m.keras"), str(files / "unused.tflite"),
                                calibration=str(files / "cal.npz"), prune=0.9, max_error=0.0)
    reference = tflite_predict(keras_layers.float_tflite(opts.model, False), np.load(files / "cal.npz")["x"])
    evaluate = Evaluator(opts.budget, np.load(files / "cal.npz")["x"], None, reference.astype(np.float64))
    real, calls = keras_layers.pruned_float, []

    def interrupted_on_the_third(*a, **k):  # P1, then the first one-layer pruning, then Ctrl-C
        calls.append(a)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    keras_layers.pruned_float = interrupted_on_the_third
    try:
        with pytest.raises(SearchInterrupted, match=r"after 1 pruned variant\(s\); nothing was written; best so "
                                                    r"far: P1 \(d1 0.90, d2 0.90\)"):
            search_pruned(opts, evaluate, None, None, None)
    finally:
        keras_layers.pruned_float = real
