"""examples/digits/distill.py refuses nonsense before training (its full runs are the README's tables; the
distillation itself is tested on small models in test_distill.py)."""

from __future__ import annotations

import pytest

from examples.digits.distill import main


@pytest.mark.parametrize("argv, named", [
    (["--variants", "plain,bogus"], "--variants bogus: allowed plain, distill, unlabelled, few"),
    (["--variants", "few"], "'few' needs --labelled N >= 10"),
    (["--variants", "unlabelled,few", "--labelled", "5"], "'few' needs --labelled N >= 10"),
])
def test_bad_variants_are_refused(argv, named, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and named in capsys.readouterr().err
