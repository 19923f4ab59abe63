"""ValidateOptions refuses every bad value once, with one line, from the Python API and the CLI alike, before
any model is read or any file written."""

from __future__ import annotations

import dataclasses
import math
import os

import pytest

import edgelift
from edgelift.device.checking.validate_options import ValidateOptions
from edgelift.errors import DelegateError, InvalidArgumentError, OutputError
from tests.sdk.bad_input import assert_refused, snapshot, work  # noqa: F401 (the fixture)

NAN, INF = math.nan, math.inf

# field, bad value, words the one-line error must contain
BAD_VALUES = [
    ("samples", 0, "samples must be a whole number >= 1, got 0"),
    ("samples", -5, "samples must be a whole number >= 1, got -5"),
    ("samples", 2.5, "samples must be a whole number >= 1, got 2.5"),
    ("samples", True, "samples must be a whole number >= 1, got True"),
    ("samples", "10", "samples must be a whole number >= 1, got '10'"),
    ("batch", 0, "batch must be a whole number >= 1, got 0"),
    ("threads", 0, "threads must be a whole number >= 1, got 0"),
    ("threads", NAN, "threads must be a whole number >= 1, got nan"),
    ("seed", -1, "seed must be a whole number >= 0, got -1"),
    ("atol", NAN, "atol must be a finite number >= 0, got nan"),
    ("atol", INF, "atol must be a finite number >= 0, got inf"),
    ("atol", -0.1, "atol must be a finite number >= 0, got -0.1"),
    ("atol", "0.1", "atol must be a finite number >= 0, got '0.1'"),
    ("min_agreement", NAN, "min_agreement must lie in [0, 1] (or 0%..100%), got nan"),
    ("min_agreement", "nan", "min_agreement must lie in [0, 1] (or 0%..100%), got 'nan'"),
    ("min_agreement", INF, "min_agreement must lie in [0, 1] (or 0%..100%), got inf"),
    ("min_agreement", 1.5, "min_agreement must lie in [0, 1] (or 0%..100%), got 1.5"),
    ("min_agreement", "101%", "min_agreement must lie in [0, 1] (or 0%..100%), got '101%'"),
    ("min_agreement", -0.01, "min_agreement must lie in [0, 1] (or 0%..100%), got -0.01"),
    ("min_agreement", "most", "min_agreement must be a number, got 'most'"),
    ("min_agreement", True, "min_agreement must be a number, got True"),
    ("max_accuracy_drop", NAN, "max_accuracy_drop must lie in [0, 1] (or 0%..100%), got nan"),
    ("max_accuracy_drop", "-inf%", "max_accuracy_drop must lie in [0, 1] (or 0%..100%), got '-inf%'"),
    ("max_accuracy_drop", [0.1], "max_accuracy_drop must be a number, got [0.1]"),
    ("max_lsb", -1, "max_lsb must be a whole number >= 0, got -1"),
    ("max_lsb", 1.0, "max_lsb must be a whole number >= 0, got 1.0"),
    ("layer_threshold", 0, "layer_threshold must be a finite number > 0, got 0"),
    ("layer_threshold", NAN, "layer_threshold must be a finite number > 0, got nan"),
    ("layer_threshold", INF, "layer_threshold must be a finite number > 0, got inf"),
    ("exact", "false", "exact must be true or false, got 'false'"),
    ("per_layer", 1, "per_layer must be true or false, got 1"),
    ("check", None, "check must be true or false, got None"),
    ("backend", "cuda", "backend 'cuda' is not one of 'litert', 'gpu', 'litert-gpu'"),
    ("runtime", "tf", "unknown runtime 'tf'"),
    ("delegate_options", "kernels=scalar", "delegate_options must be a dict of KEY: VALUE, got 'kernels=scalar'"),
    ("report", 3, "report must be a file path, got 3"),
    ("report", "", "report must be a file path, got ''"),
]


@pytest.mark.parametrize("name, value, words", BAD_VALUES, ids=[f"{n}={v!r}" for n, v, _ in BAD_VALUES])
def test_each_bad_value_is_refused_by_the_constructor(name, value, words):
    with pytest.raises(InvalidArgumentError) as info:
        ValidateOptions(**{name: value})
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name, value, words", BAD_VALUES[:12], ids=[f"{n}={v!r}" for n, v, _ in BAD_VALUES[:12]])
def test_the_api_refuses_before_reading_the_model(name, value, words):
    # the model does not exist: the option error must come first, so nothing was loaded
    with pytest.raises(InvalidArgumentError, match=words.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        edgelift.validate("no-such-model.tflite", reference_delegate="builtin", **{name: value})


def test_delegate_names_and_their_options_are_checked():
    with pytest.raises(DelegateError, match="unknown delegate 'nosuch'"):
        ValidateOptions(delegate="nosuch")
    with pytest.raises(DelegateError, match="unknown delegate 'nosuch'"):
        ValidateOptions(reference_delegate="nosuch")
    with pytest.raises(InvalidArgumentError, match=r"delegate options \['kernels'\] given for 'builtin'"):
        ValidateOptions(delegate="builtin", delegate_options={"kernels": "scalar"})
    assert ValidateOptions(delegate="NEON", delegate_options={"kernels": "scalar"}).delegate == "neon"


def test_values_are_normalised_and_frozen():
    o = ValidateOptions(min_agreement="99%", max_accuracy_drop=0.02, atol=1)
    assert (o.min_agreement, o.max_accuracy_drop, o.atol) == (0.99, 0.02, 1.0)
    assert o.given["min_agreement"] == "99%"  # messages quote what the user wrote
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.atol = math.nan


def unwritable_folder(tmp_path):
    """A folder this process cannot write: a read-only one, or /proc/sys when running as root."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o555)
    else:
        folder = "/proc/sys"
    assert not os.access(folder, os.W_OK), f"{folder} is writable here; the test needs a folder that is not"
    return folder


def test_report_paths_are_checked_before_any_work(work, tmp_path):  # noqa: F811
    with pytest.raises(OutputError, match="'adir' is a directory"):
        ValidateOptions(report="adir")
    with pytest.raises(OutputError, match="folder 'nodir' does not exist"):
        ValidateOptions(report="nodir/r.html")
    ro = unwritable_folder(tmp_path)
    with pytest.raises(OutputError, match="is not writable"):
        ValidateOptions(report=f"{ro}/r.html")
    before = snapshot(work)
    for report, inputs, label in [("m.tflite", {}, "model"), ("m.keras", {"reference": "m.keras"}, "reference model"),
                                  ("notes.txt", {"data": "notes.txt"}, "data")]:
        with pytest.raises(OutputError, match=f"output '{report}' is the {label} itself"):
            edgelift.validate("m.tflite", **inputs, **({} if "reference" in inputs else {"reference_delegate":
                                                                                         "builtin"}), report=report)
    assert snapshot(work) == before


def test_options_or_keywords_not_both(work):  # noqa: F811
    with pytest.raises(InvalidArgumentError, match=r"give options or keywords, not both \(keywords \['atol'\]\)"):
        edgelift.validate("m.tflite", options=ValidateOptions(reference_delegate="builtin"), atol=0.1)
    with pytest.raises(InvalidArgumentError, match="options must be a ValidateOptions, got dict"):
        edgelift.validate("m.tflite", options={"atol": 0.1})


def test_an_options_object_runs_like_the_keywords(work):  # noqa: F811
    opts = ValidateOptions(reference_delegate="builtin", samples=3, exact=True, report="r.html")
    by_options = edgelift.validate("m.tflite", options=opts)
    by_keywords = edgelift.validate("m.tflite", reference_delegate="builtin", samples=3, exact=True)
    assert by_options.samples == by_keywords.samples == 3
    assert by_options.failures == by_keywords.failures == []
    assert (work / "r.html").stat().st_size > 0


B = ["validate", "m.tflite", "--reference-delegate", "builtin"]
CLI_CASES = [
    ([*B, "--atol", "nan"], 2, "atol must be a finite number >= 0, got nan"),
    ([*B, "--atol", "inf"], 2, "atol must be a finite number >= 0, got inf"),
    ([*B, "--atol", "-1"], 2, "atol must be a finite number >= 0, got -1.0"),
    ([*B, "--min-agreement", "nan"], 2, "min_agreement must lie in [0, 1] (or 0%..100%), got 'nan'"),
    ([*B, "--min-agreement", "150%"], 2, "min_agreement must lie in [0, 1] (or 0%..100%), got '150%'"),
    ([*B, "--max-accuracy-drop", "inf"], 2, "max_accuracy_drop must lie in [0, 1] (or 0%..100%), got 'inf'"),
    ([*B, "--samples", "0"], 2, "samples must be a whole number >= 1, got 0"),
    ([*B, "--max-lsb", "-1"], 2, "max_lsb must be a whole number >= 0, got -1"),
    ([*B, "--layer-threshold", "nan"], 2, "layer_threshold must be a finite number > 0, got nan"),
    ([*B, "--threads", "0"], 2, "threads must be a whole number >= 1, got 0"),
    ([*B, "--batch", "0"], 2, "batch must be a whole number >= 1, got 0"),
    ([*B, "--delegate-option", "kernels=scalar"], 2, "delegate options ['kernels'] given for 'builtin'"),
    ([*B, "--report", "nodir/r.html"], 2, "folder 'nodir' does not exist"),
    ([*B, "--report", "m.tflite"], 2, "output 'm.tflite' is the model itself"),
    ([*B, "--data", "notes.txt", "--report", "notes.txt"], 2, "output 'notes.txt' is the data itself"),
    (["validate", "m.tflite", "--reference", "m.keras", "--report", "m.keras"], 2,
     "output 'm.keras' is the reference model itself"),
]


@pytest.mark.parametrize("argv, code, named", CLI_CASES, ids=[" ".join(c[0][4:]) for c in CLI_CASES])
def test_the_cli_refuses(work, capsys, argv, code, named):  # noqa: F811
    assert_refused(work, capsys, argv, code, named)


def test_the_cli_refuses_an_unwritable_report_folder(work, tmp_path, capsys):  # noqa: F811
    ro = unwritable_folder(tmp_path)
    assert_refused(work, capsys, [*B, "--report", f"{ro}/r.html"], 2, "is not writable")
