"""The search's progress line and table, from hand-made variants (the search itself: test_precision_search.py)."""

from __future__ import annotations

import io

from edgelift.converters.precision_search import Budget, SearchResult, Variant
from edgelift.converters.search_report import Progress, table

BUDGET = Budget("accuracy_drop", 0.005, 2.0)


def _variants() -> list[Variant]:
    return [Variant(1, "all int8", False, {}, b"x" * 100, 0.10, 0.88, False),
            Variant(2, "#1 + equalize", True, {}, b"x" * 100, 0.975, 0.005, True),
            Variant(3, "#1 + conv3+gap float", False, {"a": "none", "b": "none"}, b"x" * 300, 0.98, 0.0, True)]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_per_variant_in_a_log_and_one_rewritten_line_on_a_terminal():
    log, tty = io.StringIO(), _Terminal()
    for stream in (log, tty):
        p = Progress(BUDGET, stream)
        for v in _variants():
            p(v, 30.0)
        p.end()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("search [#####...............] 30/120 s  variant 1: all int8")
    assert lines[1].endswith("within budget") and not lines[0].endswith("within budget")
    assert tty.getvalue().count("\r\x1b[K") == 3 and tty.getvalue().count("\n") == 1


def test_table_marks_the_smallest_variant_within_budget_and_the_costs_given():
    result = SearchResult(BUDGET, _variants(), 0.98, 12.0, "met")
    text = table(result, {1: "1.000 ms est.", 2: "1.000 ms est."})
    rows = text.splitlines()
    assert rows[0] == ("precision search: 3 variant(s) in 12 s, budget accuracy drop <= 0.5 points, "
                       "float model 98.00%")
    assert rows[3].endswith("<- chosen") and "#1 + equalize" in rows[3] and "1.000 ms est." in rows[3]
    assert rows[4].endswith(" ok") and " 0/2 " in rows[4]  # within budget, larger: not chosen
    assert "+88.00" in rows[2] and "Pi 4 cost (est.)" in rows[1]
