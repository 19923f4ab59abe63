"""`ConvertOptions`: each field takes its good values and refuses each class of bad value with one line that
names the flag and the value seen, before any work (no TensorFlow: the model file only has to exist); the CLI,
a recipe and the Python API refuse the same bad value with the same line."""

from __future__ import annotations

import math

import pytest
import yaml

from edgelift.cli import main as cli_main
from edgelift.converters.convert_options import ConvertOptions
from edgelift.errors import EdgeliftError, InvalidArgumentError, ModelNotFoundError, OutputError


@pytest.fixture()
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("m.keras", "t.keras", "f.tflite", "cal.npz", "train.npz", "eval.npz", "notes.txt"):
        (tmp_path / name).write_bytes(b"only its existence is checked here")
    (tmp_path / "adir").mkdir()
    return tmp_path


def build(**kw) -> ConvertOptions:
    """Options for m.keras -> o.tflite, with calibration data unless `calibration=None` is passed."""
    kw.setdefault("calibration", "cal.npz")
    model = kw.pop("model", "m.keras")
    return ConvertOptions.build(model, kw.pop("output", "o.tflite"), **kw)


CAL = {"calibration": "cal.npz"}
GOOD = [  # (settings, attribute, the value it holds once checked)
    ({}, "route", "keras"),
    ({**CAL}, "io", "int8"),
    ({"prune": 0.75}, "spec.sparsity", 0.75),
    ({"prune": "0.75"}, "spec.sparsity", 0.75),
    ({"prune_kind": "2:4"}, "spec.sparsity", 0.5),
    ({"prune": 0.5, "prune_kind": "block", "block": "4X2"}, "spec.block", (4, 2)),
    ({"prune": 0.5, "prune_kind": "block", "target": " RPi5 "}, "spec.block", (16, 4)),
    ({"target": "rpi4"}, "target", "rpi4"),
    ({"prune_layers": "conv, dense"}, "prune_layers", ["conv", "dense"]),
    ({"keep_dense": "none"}, "keep_dense", []),
    ({"keep_dense": ["conv"]}, "keep_dense", ["conv"]),
    ({"cluster": 16}, "n_clusters", 16),
    ({"quantize": "dynamic"}, "io", "float32"),
    ({"quantize": "int8", "io": "float32", **CAL}, "io", "float32"),
    ({"per_channel": False}, "per_channel", False),
    ({"calibration_samples": 200}, "calibration_samples", 200),
    ({}, "calibration_samples", 100),
    ({"qat": True, "train_data": "train.npz"}, "qat", True),
    ({"epochs": 3, "batch_size": 8}, "epochs", 3),
    ({"batch_size": 8}, "batch_size", 8),
    ({"eval_data": "eval.npz"}, "eval_data", "eval.npz"),
    ({"report": "r.json"}, "report_path.name", "r.json"),
    ({}, "recipe_path.name", "o.recipe.yaml"),
    ({"layers": {"dense": "int16x8"}, **CAL}, "route", "keras_layers"),
    ({"model": "f.tflite", "layers": {"dense": "none"}, **CAL}, "layer_modes", {"dense": "none"}),
    ({"model": "f.tflite", "quantize": "float16", "calibration": None}, "route", "tflite"),
    ({"equalize": True}, "equalize", True),
    ({"bias_correction": True, **CAL}, "bias_correction", True),
    ({"distill": True, "prune": 0.5, "train_data": "train.npz"}, "temperature", 2.0),
    ({"distill": True, "prune": 0.5, "train_data": "train.npz", "temperature": 4}, "temperature", 4),
    ({"distill": True, "qat": True, "train_data": "train.npz", "distill_alpha": 0.25}, "distill_alpha", 0.25),
    ({"distill": True, "cluster": 8, "train_data": "train.npz", "teacher": "t.keras"}, "teacher", "t.keras"),
    ({"max_accuracy_drop": "0.5%", "eval_data": "eval.npz", **CAL}, "budget.limit", 0.005),
    ({"max_error": 0.1, **CAL}, "route", "search"),
    ({"max_error": "0.1", "search_budget": 2, **CAL}, "budget.minutes", 2.0),
    ({"max_error": 0.1, "search_cost": True, **CAL}, "budget.meter", True),
]


def _attr(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("settings, attr, want", GOOD, ids=[f"{a}={s}" for s, a, _ in GOOD])
def test_good_values(work, settings, attr, want):
    got = _attr(build(**settings), attr)
    assert got == (pytest.approx(want) if isinstance(want, float) else want)


NAN, INF = math.nan, math.inf
BAD = [  # (settings, the words the one line must hold: the flag and the value)
    # types: a quoted bool is not a bool, a bool is not a number
    ({"qat": "no"}, "qat must be true or false (unquoted), got the string 'no'"),
    ({"per_channel": "false"}, "per_channel must be true or false (unquoted), got the string 'false'"),
    ({"equalize": 1}, "equalize must be true or false (unquoted), got 1 (int)"),
    ({"search_cost": "yes", "max_error": 0.1, **CAL}, "search_cost must be true or false (unquoted)"),
    ({"max_error": [0.1], **CAL}, "max_error must be a number such as 0.05, got [0.1] (list)"),
    ({"epochs": True}, "epochs must be a whole number, got True (bool)"),
    ({"cluster": 16.5}, "cluster must be a whole number, got 16.5 (float)"),
    ({"prune": True}, "prune must be a number or a string such as '2:4', got True (bool)"),
    ({"temperature": "hot", "distill": True}, "temperature must be a number, got the string 'hot'"),
    ({"layers": "dense: int8"}, "layers must be a mapping of op-name regex -> quantize mode"),
    ({"report": 3}, "report must be a path (string), got 3 (int)"),
    ({"teacher": 3.0}, "teacher must be a path (string), got 3.0 (float)"),
    # non-finite numbers
    ({"prune": NAN}, "sparsity nan is outside [0, 1)"),
    ({"prune": INF}, "sparsity inf is outside [0, 1)"),
    ({"temperature": INF, "distill": True}, "--temperature inf must be a finite number > 0"),
    ({"distill_alpha": NAN}, "--distill-alpha nan must be in [0, 1]"),
    ({"max_error": INF, **CAL}, "--max-error inf must be a finite number >= 0"),
    ({"max_accuracy_drop": NAN, **CAL}, "--max-accuracy-drop must lie in [0, 1] (or 0%..100%), got nan"),
    ({"search_budget": NAN, "max_error": 0.1, **CAL}, "--search-budget nan must be a finite number >= 0"),
    # ranges
    ({"prune": 1.0}, "sparsity 1.0 is outside [0, 1)"),
    ({"prune": -0.1}, "sparsity -0.1 is outside [0, 1)"),
    ({"prune": "lots"}, "--prune 'lots' is not a number"),
    ({"prune": 0.75, "prune_kind": "2:4"}, "--prune 0.75 with --prune-kind 2:4"),
    ({"prune": 0.5, "prune_kind": "block", "block": "0x4"}, "--block 0x4 must have positive sides"),
    ({"block": "4"}, "--block '4' is not RxC"),
    ({"cluster": 1}, "--cluster 1 is outside 2..256"),
    ({"cluster": 300}, "--cluster 300 is outside 2..256"),
    ({"calibration_samples": 0}, "--calibration-samples 0 must be a whole number >= 1"),
    ({"calibration_samples": 5}, "--calibration-samples 5 is below 10"),
    ({"epochs": 0}, "--epochs 0 must be a whole number >= 1"),
    ({"batch_size": -2}, "--batch-size -2 must be a whole number >= 1"),
    ({"distill_alpha": 1.5}, "--distill-alpha 1.5 must be in [0, 1]"),
    ({"temperature": 0, "distill": True}, "--temperature 0 must be a finite number > 0"),
    ({"max_error": -1, **CAL}, "--max-error -1 must be a finite number >= 0"),
    ({"max_accuracy_drop": "150%", **CAL}, "--max-accuracy-drop must lie in [0, 1] (or 0%..100%), got '150%'"),
    ({"search_budget": 0, "max_error": 0.1, **CAL}, "--search-budget 0 must be more than 0 minutes"),
    # choices
    ({"prune_kind": "random"}, "--prune-kind 'random' is not one of"),
    ({"quantize": "int4"}, "--quantize 'int4' is not one of"),
    ({"io": "int16", **CAL}, "--io int16 is not available with --quantize int8"),
    ({"target": "pi9"}, "--target 'pi9' is not one of rpi4, rpi5"),
    ({"layers": {"dense": "int4"}, **CAL}, "layers entry 'dense' has mode 'int4'"),
    ({"layers": {"(": "int8"}, **CAL}, "layers regex '(' does not compile"),
    # paths
    ({"model": "missing.keras"}, "model path 'missing.keras' does not exist"),
    ({"calibration": "gone.npz"}, "data path 'gone.npz' does not exist"),
    ({"train_data": "gone", "qat": True}, "data path 'gone' does not exist"),
    ({"eval_data": "notes.txt"}, "data file 'notes.txt' has suffix '.txt'; allowed: .npz, .npy"),
    ({"model": None}, "no model given"),
    ({"output": None}, "no output path given"),
    ({"output": "adir/sub/o.tflite"}, "folder 'adir/sub' does not exist"),
    ({"output": "adir"}, "output path 'adir' is a directory"),
    ({"output": "m.keras"}, "output 'm.keras' is the model itself"),
    ({"report": "cal.npz", **CAL}, "output 'cal.npz' is the calibration data itself"),
    ({"report": "o.tflite"}, "the report and the output are both 'o.tflite'"),
    ({"report": "o.recipe.yaml"}, "are both 'o.recipe.yaml'"),
    ({"teacher": "gone.keras", "distill": True, "prune": 0.5, "train_data": "train.npz"},
     "--teacher 'gone.keras' does not exist"),
    # combinations
    ({"prune_kind": "block"}, "--prune-kind block needs a target sparsity"),
    ({"qat": True}, "--qat needs training data"),
    ({"qat": True, "quantize": "float16", "train_data": "train.npz"}, "--qat trains for int8; --quantize float16"),
    ({"quantize": "int8", "calibration": None}, "--quantize int8 needs calibration data"),
    ({"bias_correction": True, "calibration": None},
     "--bias-correction measures each layer's mean shift on calibration inputs"),
    ({"bias_correction": True, "quantize": "dynamic", **CAL}, "it does not apply to --quantize dynamic"),
    ({"prune": 0.5, "cluster": 8, "qat": True, "train_data": "train.npz"}, "--prune, --cluster and --qat together"),
    ({"temperature": 3}, "--temperature 3 was given without --distill"),
    ({"distill": True}, "--distill changes how pruning, clustering or QAT fine-tune, and none was asked"),
    ({"distill": True, "prune": 0.5}, "--distill fine-tunes --prune on training data, and none was given"),
    ({"max_error": 0.1, **CAL, "cluster": 8}, "--cluster cannot be combined with a precision search"),
    ({"max_error": 0.1, **CAL, "train_data": "train.npz"}, "--train-data without --prune in a precision search"),
    ({"model": "f.tflite", "max_error": 0.1, **CAL, "prune": 0.5}, "--prune does not apply to a .tflite input"),
    ({"max_error": 0.1, **CAL, "quantize": "int16x8"}, "--quantize int16x8 with a precision search"),
    ({"max_error": 0.1, "calibration": None}, "a precision search quantizes to int8, which needs calibration data"),
    ({"max_accuracy_drop": 0.01, **CAL}, "--max-accuracy-drop measures accuracy on labelled --eval-data"),
    ({"max_error": 0.1, "max_accuracy_drop": 0.01, **CAL}, "given together"),
    ({"search_cost": True}, "--search-cost meters the result of a precision search, and none was asked for"),
    ({"model": "f.tflite", "prune": 0.5, **CAL}, "--prune does not apply to a .tflite input"),
    ({"model": "f.tflite", "epochs": 3, **CAL}, "--epochs does not apply to a .tflite input"),
    ({"model": "f.tflite", "quantize": "none", "calibration": None},
     "--quantize none on a .tflite input would only copy it"),
    ({"model": "f.tflite", "quantize": "dynamic", **CAL}, "--calibration is not used by --quantize dynamic"),
    ({"layers": {"dense": "int8"}, "cluster": 8, **CAL}, "cluster with layers: (per-op quantize modes)"),
    ({"layers": {"dense": "int8"}, "train_data": "train.npz", **CAL}, "train_data with layers: and no --prune"),
]


@pytest.mark.parametrize("settings, named", BAD, ids=[named[:60] for _, named in BAD])
def test_bad_values_refused_before_any_work(work, settings, named):
    before = sorted(p.name for p in work.iterdir())
    with pytest.raises(EdgeliftError) as info:
        build(**settings)
    assert named in str(info.value), (named, str(info.value))
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in work.iterdir()) == before


def test_error_classes(work):
    with pytest.raises(ModelNotFoundError):
        build(model="missing.keras")
    with pytest.raises(OutputError):
        build(output="m.keras")
    with pytest.raises(InvalidArgumentError):
        build(cluster=1)


def test_given_records_what_was_asked_and_defaults_fill_the_rest(work):
    opts = build(prune=0.5)
    assert set(opts.given) == {"model", "output", "prune", "calibration"}
    assert (opts.quantize, opts.per_channel, opts.epochs, opts.prune_kind, opts.block) == \
        ("int8", True, 2, "unstructured", "1x4")


def test_recipe_values_merge_under_flags(work):
    (work / "r.yaml").write_text("prune: 0.5\ncluster: 8\nepochs: 4\n")
    opts = build(recipe="r.yaml", epochs=1)
    assert (opts.spec.sparsity, opts.n_clusters, opts.epochs) == (0.5, 8, 1)
    assert opts.given["epochs"] == 1 and opts.recipe == "r.yaml"


def test_rerunning_the_written_recipe_does_not_overwrite_it(work):
    (work / "o.recipe.yaml").write_text("quantize: dynamic\n")
    opts = build(recipe="o.recipe.yaml")
    assert opts.recipe_path is None and opts.quantize == "dynamic"


def test_convert_takes_options_or_keywords_not_both(work):
    from edgelift.converters.pipeline import convert

    with pytest.raises(InvalidArgumentError, match="give options or keywords, not both"):
        convert(options=build(quantize="dynamic"), prune=0.5)
    with pytest.raises(InvalidArgumentError, match="options must be a ConvertOptions, got dict"):
        convert(options={"model": "m.keras"})


# the same bad value through the three doors: (CLI flags, recipe YAML text, API keywords)
SAME = [
    # (YAML reads an unquoted 0x4 as the number 4: the recipe must quote it, as its type error says)
    (["--cluster", "300"], "cluster: 300", {"cluster": 300}),
    (["--epochs", "0"], "epochs: 0", {"epochs": 0}),
    (["--batch-size", "0"], "batch_size: 0", {"batch_size": 0}),
    (["--calibration-samples", "5"], "calibration_samples: 5", {"calibration_samples": 5}),
    (["--prune", "1.5"], "prune: 1.5", {"prune": 1.5}),
    (["--prune", "nan"], "prune: .nan", {"prune": NAN}),
    (["--prune", "0.5", "--prune-kind", "block", "--block", "0x4"], "prune: 0.5\nprune_kind: block\nblock: '0x4'",
     {"prune": 0.5, "prune_kind": "block", "block": "0x4"}),
    (["--target", "pi9"], "target: pi9", {"target": "pi9"}),
    (["--distill", "--temperature", "inf"], "distill: true\ntemperature: .inf", {"distill": True, "temperature": INF}),
    (["--distill-alpha", "2"], "distill_alpha: 2.0", {"distill_alpha": 2.0}),
    (["--prune-kind", "block"], "prune_kind: block", {"prune_kind": "block"}),
    (["--qat"], "qat: true", {"qat": True}),
    (["--report", "m.keras"], "report: m.keras", {"report": "m.keras"}),
]


@pytest.mark.parametrize("flags, recipe_text, kwargs", SAME, ids=[" ".join(s[0]) for s in SAME])
def test_cli_recipe_and_api_give_one_message(work, capsys, flags, recipe_text, kwargs):
    with pytest.raises(EdgeliftError) as api:
        build(**kwargs)
    (work / "r.yaml").write_text(recipe_text + "\n")
    assert yaml.safe_load(recipe_text)  # the recipe text is what it claims
    with pytest.raises(EdgeliftError) as from_recipe:
        build(recipe="r.yaml")
    capsys.readouterr()
    code = cli_main(["convert", "m.keras", "-o", "o.tflite", *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert str(from_recipe.value) == str(api.value)
    assert err == f"error: {api.value}"
