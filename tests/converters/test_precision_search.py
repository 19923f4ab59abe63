"""The precision search on a model int8 breaks (tests/converters/search_models.py), through its API."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edgelift.converters.precision_search import Budget, Evaluator, Source, _merge, check_budget, search
from edgelift.converters.report import tflite_predict
from edgelift.converters.search_convert import _source
from edgelift.data import load_data
from tests.converters.search_models import write_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_files(tmp_path_factory.mktemp("search"))


@pytest.fixture(scope="module")
def parts(files):
    cal, ev = load_data(files / "cal.npz"), load_data(files / "eval.npz")
    src = _source((files / "f.tflite").read_bytes(), False, cal, 100, True, "f.tflite")
    reference = tflite_predict(src.prepared, ev.x).astype(np.float64)
    return src, cal, ev, reference


def test_budget_reads_fractions_and_percentages_like_validate():
    assert check_budget("0.5%").limit == pytest.approx(0.005)
    assert check_budget("0.005").limit == pytest.approx(0.005)
    assert check_budget(max_error="0.25", search_budget="2") == Budget("max_error", 0.25, 2.0)
    assert check_budget() is None


def test_each_op_gets_a_regex_of_its_own_and_a_tensor_its_producer_and_consumers(parts):
    src = parts[0]
    assert len(src.scopes) == 3
    for op in range(3):  # the quantizer matches with re.search over every op's scope: exactly one hit
        assert [bool(re.search(src.regex(op), s)) for s in src.scopes] == [i == op for i in range(3)]
    d1_out = next(name for name, op in src.producers.items() if op == 0)
    assert src.group(d1_out) == [0, 1]  # d1 makes it, d2 reads it
    assert src.labels[:2] == ["d1", "d2"]


def test_a_move_never_takes_an_op_back_towards_int8():
    assert _merge({"a": "none"}, {"a": "int16x8", "b": "int16x8"}) == {"a": "none", "b": "int16x8"}
    assert _merge({"a": "int16x8"}, {"a": "none"}) == {"a": "none"}


def test_search_moves_the_dominated_layer_off_int8_to_meet_the_budget(parts):
    src, cal, ev, reference = parts
    budget = Budget("accuracy_drop", 0.20)
    seen = []
    result = search({False: src}, Evaluator(budget, ev.x, ev.y, reference), cal.x[:32],
                    progress=lambda v, t: seen.append(v.number))
    first, win = result.variants[0], result.winner
    assert first.change == "all int8" and first.layers == {} and not first.meets  # measured: drop 32.75 points
    assert win is not None and win.off_int8 >= 1 and set(win.layers.values()) <= {"int16x8", "none"}
    assert win.size == min(v.size for v in result.variants if v.meets)
    # the score is LiteRT's own on the bytes the search would write
    got = float(np.mean(tflite_predict(win.tflite, ev.x).argmax(1) == ev.y))
    assert got == win.score and result.reference_score - got <= 0.20
    assert seen == [v.number for v in result.variants] and result.stopped == "met"


def test_search_stops_when_its_time_is_spent(parts):
    src, cal, ev, reference = parts
    ticks = iter(range(0, 10_000, 100))  # every clock reading 100 s later: past a 1-minute budget at once
    result = search({False: src}, Evaluator(Budget("max_error", 0.0, 1.0), ev.x, None, reference), cal.x[:32],
                    clock=lambda: float(next(ticks)))
    assert len(result.variants) == 1 and result.winner is None and result.stopped == "time"


def test_source_calibration_is_what_convert_uses(files, parts):
    src = parts[0]
    assert isinstance(src, Source) and len(src.calibration) == 100 and src.per_channel


def test_past_the_layers_that_add_error_the_search_goes_on_to_all_float_before_it_gives_up(parts):
    from edgelift.converters.tflite_io import float_io

    src, cal, ev, reference = parts  # float32 io, as convert --io float32 scores
    evaluate = Evaluator(Budget("max_error", 0.0), ev.x, None, reference, finish=float_io)
    result = search({False: src}, evaluate, cal.x[:32])  # int8 never is exact: nothing meets a zero budget
    assert result.winner is None and result.stopped == "no more moves"
    every_op_float = [v for v in result.variants if len(v.layers) == len(src.scopes)
                      and set(v.layers.values()) == {"none"}]
    assert every_op_float, [v.change for v in result.variants]
