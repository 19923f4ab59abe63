"""examples/digits/search_run.py refuses nonsense before training (its full run is the README's table; the
search itself is tested on small models in test_precision_search.py and test_search_cli.py)."""

from __future__ import annotations

import pytest

from examples.digits.search_run import main


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--epochs", "-1"]])
def test_bad_counts_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "must be >= 1" in capsys.readouterr().err
