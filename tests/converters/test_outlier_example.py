"""examples/digits/outlier_run.py refuses nonsense before training (its full run is the README's table; the
outlier model itself is tested through the `outlier_files` fixture in tests/device and tests/converters)."""

from __future__ import annotations

import pytest

from examples.digits.outlier_run import VARIANTS, main


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--epochs", "-1"]])
def test_bad_counts_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "must be >= 1" in capsys.readouterr().err


def test_variants_are_convert_arguments():
    import inspect

    from edgelift.converters.pipeline import convert

    known = set(inspect.signature(convert).parameters)
    assert all(set(kw) <= known for _, kw in VARIANTS)
