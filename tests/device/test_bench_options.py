"""BenchOptions refuses every bad value once, with one line, for bench here, emulated and on a device, from the
Python API and the CLI alike, before any model is loaded, any timing starts or any connection is made."""

from __future__ import annotations

import dataclasses
import math

import pytest

import edgelift
from edgelift.device.bench_options import BenchOptions
from edgelift.device.remote.api import bench_remote
from edgelift.errors import DelegateError, InvalidArgumentError, OutputError
from tests.device.test_validate_options import unwritable_folder
from tests.sdk.bad_input import assert_refused, snapshot, work  # noqa: F401 (the fixture)

NAN, INF = math.nan, math.inf

HERE = [
    ({"runs": 0}, "runs must be a whole number >= 1, got 0"),
    ({"runs": 2.5}, "runs must be a whole number >= 1, got 2.5"),
    ({"runs": True}, "runs must be a whole number >= 1, got True"),
    ({"runs": NAN}, "runs must be a whole number >= 1, got nan"),
    ({"seconds": NAN}, "seconds must be a finite number > 0, got nan"),
    ({"seconds": INF}, "seconds must be a finite number > 0, got inf"),
    ({"seconds": 0}, "seconds must be a finite number > 0, got 0"),
    ({"seconds": "1"}, "seconds must be a finite number > 0, got '1'"),
    ({"runs": 3, "seconds": 1}, "give runs (3) or seconds (1), not both"),
    ({"warmup": -1}, "warmup must be a whole number >= 0, got -1"),
    ({"warmup": INF}, "warmup must be a whole number >= 0, got inf"),
    ({"threads": 0}, "threads must be a whole number >= 1, got 0"),
    ({"threads": "2"}, "threads must be a whole number >= 1, got '2'"),
    ({"delegates": ""}, "no delegate given (''"),
    ({"delegates": "builtin,builtin"}, "delegate(s) builtin given more than once"),
    ({"delegates": 3}, "delegates must be names separated by commas or a list of names, got 3"),
    ({"delegates": "builtin", "delegate_options": {"num_threads": "2"}},
     "delegate options ['num_threads'] given, but builtin take(s) none"),
    ({"delegate_options": "kernels=dot"}, "delegate_options must be a dict of KEY: VALUE, got 'kernels=dot'"),
    ({"per_op": "no"}, "per_op must be true or false, got 'no'"),
    ({"runtime": "tf"}, "unknown runtime 'tf'"),
    ({"emulate": "rpi3"}, "emulate 'rpi3' is not one of none, 'rpi4', 'rpi5'"),
    ({"report": 7}, "report must be a file path, got 7"),
]
EMULATED = [
    ({"runs": 0}, "runs must be a whole number >= 1 with --emulate, got 0"),
    ({"warmup": 0}, "warmup must be a whole number >= 1 with --emulate, got 0"),
    ({"seconds": 2.0}, "seconds=2.0 cannot be combined with emulate='rpi4'"),
    ({"threads": 2}, "threads=2 cannot be combined with emulate='rpi4'"),
    ({"per_op": True}, "per_op cannot be combined with emulate='rpi4'"),
]
ON_DEVICE = [
    ({"runs": 0}, "runs must be a whole number >= 1, got 0"),
    ({"runs": NAN}, "runs must be a whole number >= 1, got nan"),
    ({"warmup": -1}, "warmup must be a whole number >= 0, got -1"),
    ({"threads": 0}, "threads must be a whole number >= 1, got 0"),
    ({"delegates": "neon,gpu"}, "unknown remote delegate(s) ['gpu']; allowed: neon, builtin, xnnpack"),
    ({"seconds": 1.0, "report": "r.html"}, "--seconds, --report cannot be combined with --host"),
    ({"delegate_options": {"kernels": "dot"}}, "--delegate-option cannot be combined with --host"),
]


def _ids(cases):
    return [", ".join(f"{k}={v!r}" for k, v in c.items()) for c, _ in cases]


@pytest.mark.parametrize("settings, words", HERE, ids=_ids(HERE))
def test_here_each_bad_value_is_refused_by_the_constructor_and_by_bench(settings, words):
    with pytest.raises(InvalidArgumentError) as info:
        BenchOptions(**settings)
    assert words in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(InvalidArgumentError) as info:  # before the (missing) model is read
        edgelift.bench("no-such-model.tflite", **settings)
    assert words in str(info.value)


@pytest.mark.parametrize("settings, words", EMULATED, ids=_ids(EMULATED))
def test_emulated_bad_values_are_refused(settings, words):
    with pytest.raises(InvalidArgumentError) as info:
        BenchOptions(emulate="rpi4", **settings)
    assert words in str(info.value)


@pytest.mark.parametrize("settings, words", ON_DEVICE, ids=_ids(ON_DEVICE))
def test_on_device_bad_values_are_refused_before_connecting(settings, words):
    with pytest.raises(InvalidArgumentError) as info:
        BenchOptions(on_device=True, **settings)
    assert words in str(info.value)
    if "report" not in settings and "seconds" not in settings and "delegate_options" not in settings:
        # port 9 (discard) on loopback: a connection attempt would fail differently
        with pytest.raises(InvalidArgumentError) as info:
            bench_remote("127.0.0.1:9", None, **settings)
        assert words in str(info.value)


def test_bench_remote_refuses_a_non_finite_max_seconds():
    with pytest.raises(InvalidArgumentError, match="max_seconds must be a finite number > 0, got inf"):
        bench_remote("127.0.0.1:9", None, max_seconds=INF)


def test_defaults_depend_on_the_place_and_are_stored_resolved():
    here, emulated, device = BenchOptions(), BenchOptions(emulate="rpi5"), BenchOptions(on_device=True)
    assert (here.delegates, here.runs, here.warmup) == (("xnnpack",), 50, 5)
    assert (emulated.delegates, emulated.runs, emulated.warmup) == (None, 1, 1)
    assert (device.delegates, device.runs, device.warmup) == (("neon", "builtin", "xnnpack"), 50, 5)
    assert BenchOptions(seconds=2).runs is None
    with pytest.raises(DelegateError, match="unknown delegate 'nosuch'"):
        BenchOptions(delegates="builtin,nosuch")
    with pytest.raises(dataclasses.FrozenInstanceError):
        here.runs = 0


def test_report_paths_are_checked_before_any_work(work, tmp_path):  # noqa: F811
    ro = unwritable_folder(tmp_path)
    with pytest.raises(OutputError, match="is not writable"):
        BenchOptions(report=f"{ro}/r.html")
    with pytest.raises(OutputError, match="folder 'nodir' does not exist"):
        BenchOptions(report="nodir/r.html")
    before = snapshot(work)
    with pytest.raises(OutputError, match="output 'm.tflite' is the model itself"):
        edgelift.bench("m.tflite", delegates="builtin", runs=1, report="m.tflite")
    with pytest.raises(OutputError, match="output 'notes.txt' is the input data itself"):
        edgelift.bench("m.tflite", inputs="notes.txt", delegates="builtin", runs=1, report="notes.txt")
    with pytest.raises(OutputError, match="output 'm.tflite' is the model itself"):
        edgelift.bench("m.tflite", emulate="rpi4", report="m.tflite")
    with pytest.raises(InvalidArgumentError, match="inputs cannot be combined with emulate='rpi4'"):
        edgelift.bench("m.tflite", inputs="notes.txt", emulate="rpi4")
    assert snapshot(work) == before


def test_an_options_object_runs_like_the_keywords(work):  # noqa: F811
    by_options = edgelift.bench("m.tflite", options=BenchOptions(delegates="builtin", runs=3, warmup=0))
    by_keywords = edgelift.bench("m.tflite", delegates="builtin", runs=3, warmup=0)
    assert [c["runs"] for c in by_options.as_dict()["configs"]] == [c["runs"] for c in
                                                                    by_keywords.as_dict()["configs"]] == [3]
    with pytest.raises(InvalidArgumentError, match=r"give options or keywords, not both \(keywords \['runs'\]\)"):
        edgelift.bench("m.tflite", options=BenchOptions(), runs=3)
    with pytest.raises(InvalidArgumentError, match="options must be a BenchOptions for here or emulate"):
        edgelift.bench("m.tflite", options=BenchOptions(on_device=True))


CLI_CASES = [
    (["bench", "m.tflite", "--seconds", "nan"], 2, "seconds must be a finite number > 0, got nan"),
    (["bench", "m.tflite", "--runs", "0"], 2, "runs must be a whole number >= 1, got 0"),
    (["bench", "m.tflite", "--runs", "2", "--seconds", "1"], 2, "give runs (2) or seconds (1.0), not both"),
    (["bench", "m.tflite", "-d", ","], 2, "no delegate given (','"),
    (["bench", "m.tflite", "--report", "nodir/r.html"], 2, "folder 'nodir' does not exist"),
    (["bench", "m.tflite", "--input", "notes.txt", "--report", "notes.txt"], 2,
     "output 'notes.txt' is the input data itself"),
    (["bench", "m.tflite", "--emulate", "rpi4", "--warmup", "0"], 2,
     "warmup must be a whole number >= 1 with --emulate, got 0"),
    (["bench", "m.tflite", "--emulate", "rpi4", "--report", "m.tflite"], 2, "output 'm.tflite' is the model itself"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "--threads", "0"], 2, "threads must be a whole number >= 1"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "--warmup", "-2"], 2, "warmup must be a whole number >= 0"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "--input", "notes.txt"], 2,
     "--input cannot be combined with --host"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "--per-op"], 2, "--per-op cannot be combined with --host"),
    (["bench", "m.tflite", "--host", "127.0.0.1:9", "-d", "gpu"], 2, "unknown remote delegate(s) ['gpu']"),
]


@pytest.mark.parametrize("argv, code, named", CLI_CASES, ids=[" ".join(c[0][2:]) for c in CLI_CASES])
def test_the_cli_refuses(work, capsys, argv, code, named):  # noqa: F811
    assert_refused(work, capsys, argv, code, named)


def test_the_cli_refuses_an_unwritable_report_folder(work, tmp_path, capsys):  # noqa: F811
    ro = unwritable_folder(tmp_path)
    assert_refused(work, capsys, ["bench", "m.tflite", "--report", f"{ro}/r.html"], 2, "is not writable")
