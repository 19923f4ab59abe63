"""The shared option checks: what each accepts (normalised) and the one line each refusal carries."""

from __future__ import annotations

import math

import pytest

from edgelift import option_checks as check
from edgelift.errors import InvalidArgumentError, OutputError


@pytest.mark.parametrize("value", [0, -1, 1.0, True, None, "2", math.nan])
def test_whole_refuses_what_is_not_a_whole_number_in_range(value):
    with pytest.raises(InvalidArgumentError, match=rf"runs must be a whole number >= 1, got {value!r}"):
        check.whole("runs", value, 1)


def test_whole_and_finite_accept_and_normalise():
    assert check.whole("runs", 3, 1) == 3 and check.optional_whole("runs", None, 1) is None
    assert check.finite("atol", 1, 0.0) == 1.0 and isinstance(check.finite("atol", 1, 0.0), float)
    assert check.finite("atol", 0, 0.0) == 0.0
    with pytest.raises(InvalidArgumentError, match="seconds must be a finite number > 0, got 0"):
        check.finite("seconds", 0, 0.0, inclusive=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1e-9, "1", True, None])
def test_finite_refuses_nan_inf_negative_and_non_numbers(value):
    with pytest.raises(InvalidArgumentError, match="atol must be a finite number >= 0"):
        check.finite("atol", value, 0.0)


FRACTIONS = [(0.99, 0.99), ("99%", 0.99), (" 5% ", 0.05), (1, 1.0), ("0", 0.0), (None, None)]


@pytest.mark.parametrize("value, want", FRACTIONS)
def test_fraction_accepts_numbers_and_percentages(value, want):
    got = check.fraction("min_agreement", value)
    assert got == pytest.approx(want) if want is not None else got is None


@pytest.mark.parametrize("value", [math.nan, "nan", "nan%", math.inf, "inf%", 1.01, "100.5%", -0.1])
def test_fraction_refuses_outside_zero_to_one(value):
    with pytest.raises(InvalidArgumentError, match=r"min_agreement must lie in \[0, 1\]"):
        check.fraction("min_agreement", value)


def test_flag_and_choice():
    assert check.flag("exact", False) is False
    for value in ("false", "no", 0, None):
        with pytest.raises(InvalidArgumentError, match=f"exact must be true or false, got {value!r}"):
            check.flag("exact", value)
    assert check.choice("backend", "gpu", ("litert", "gpu")) == "gpu"
    with pytest.raises(InvalidArgumentError, match="backend 'GPU' is not one of 'litert', 'gpu'"):
        check.choice("backend", "GPU", ("litert", "gpu"))


def test_output_path(tmp_path):
    assert check.output_path("report", None) is None
    assert check.output_path("report", tmp_path / "r.html") == str(tmp_path / "r.html")
    with pytest.raises(OutputError, match="is a directory"):
        check.output_path("report", tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        check.output_path("report", tmp_path / "no" / "r.html")
    with pytest.raises(InvalidArgumentError, match="report must be a file path, got b'r.html'"):
        check.output_path("report", b"r.html")
    assert list(tmp_path.iterdir()) == []  # checking writes nothing
