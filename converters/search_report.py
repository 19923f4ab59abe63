"""What the precision search shows: one progress line per variant, and the table of every variant tried."""

from __future__ import annotations

import sys
from typing import Any

from .precision_search import Budget, SearchResult, Variant, describe_score


class Progress:
    """One line on stderr, rewritten in place on a terminal (one line per variant in a log)."""

    def __init__(self, budget: Budget, stream=None):
        self.budget = budget
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown = False

    def __call__(self, v: Variant, elapsed: float) -> None:
        total = 60.0 * self.budget.minutes
        done = min(1.0, elapsed / total) if total > 0 else 1.0
        bar = "#" * int(20 * done) + "." * (20 - int(20 * done))
        line = (f"search [{bar}] {elapsed:.0f}/{total:.0f} s  variant {v.number}: {v.change}: "
                f"{describe_score(v, self.budget)}{'  within budget' if v.meets else ''}")
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _mode_counts(v: Variant) -> str:
    n16 = sum(m == "int16x8" for m in v.layers.values())
    nf = sum(m == "none" for m in v.layers.values())
    return f"{n16}/{nf}"


def table(result: SearchResult, cost: dict[int, str] | None = None) -> str:
    """Every variant tried, in order; the winner marked. `cost`: variant number -> estimated Pi 4 cost text."""
    b = result.budget
    acc = b.kind == "accuracy_drop"
    ref = (f", float model {100 * result.reference_score:.2f}%" if acc and result.reference_score is not None
           else "")
    win = result.winner
    lines = [f"precision search: {len(result.variants)} variant(s) in {result.seconds:.0f} s, budget "
             f"{b.describe()}{ref}",
             f"  {'#':>3} {'change':<40} {'eq':<3} {'16/fl':>5} {'accuracy' if acc else 'max err':>9} "
             f"{'drop' if acc else '':>7} {'bytes':>9}{'  Pi 4 cost (est.)' if cost else ''}"]
    for v in result.variants:
        score = f"{100 * v.score:8.2f}%" if acc else f"{v.score:9.4g}"
        drop = f"{100 * v.drop:+7.2f}" if acc else f"{'':>7}"
        mark = " <- chosen" if v is win else " ok" if v.meets else ""
        extra = f"  {cost[v.number]}" if cost and v.number in cost else ""
        lines.append(f"  {v.number:>3} {v.change[:40]:<40} {'yes' if v.equalized else 'no':<3} "
                     f"{_mode_counts(v):>5} {score} {drop} {v.size:>9,}{extra}{mark}")
    lines.append("  (16/fl: ops in int16x8 / kept float; eq: cross-layer equalization)")
    return "\n".join(lines)


def as_dict(result: SearchResult) -> dict[str, Any]:
    win = result.winner
    return {"budget": {"kind": result.budget.kind, "limit": result.budget.limit, "minutes": result.budget.minutes},
            "reference_score": result.reference_score, "seconds": result.seconds, "stopped": result.stopped,
            "chosen": win.number if win else None, "variants": [v.as_dict() for v in result.variants]}
