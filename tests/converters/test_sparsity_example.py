"""examples/digits/sparsity_run.py: refuses nonsense before training, and one short run goes end to end (its
full run is the README's figure; the search itself is tested on a small model in test_sparsity_search.py)."""

from __future__ import annotations

import re

import pytest

from examples.digits.sparsity_run import main


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--epochs", "-1"], ["--fine-tune-epochs", "0"]])
def test_bad_counts_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and "must be >= 1" in capsys.readouterr().err


def test_one_short_run_prints_the_search_and_the_held_out_figures(capsys):
    assert main(["--runs", "1", "--epochs", "10", "--fine-tune-epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"float \(Keras\)\s+\d+\.\d\d%", out) and re.search(r"every layer 90%\s+\d+\.\d\d%", out)
    # training is not bit-reproducible: the search either met the budget (its row and choice) or said it did not
    assert re.search(r"sparsity search\s+\d+\.\d\d%", out) or "none within budget" in out, out
    assert "chosen: " in out
