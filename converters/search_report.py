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
        self.show(f"variant {v.number}: {v.change}: {describe_score(v, self.budget)}", v.meets, elapsed)

    def show(self, text: str, meets: bool, elapsed: float) -> None:
        total = 60.0 * self.budget.minutes
        done = min(1.0, elapsed / total) if total > 0 else 1.0
        bar = "#" * int(20 * done) + "." * (20 - int(20 * done))
        line = f"search [{bar}] {elapsed:.0f}/{total:.0f} s  {text}{'  within budget' if meets else ''}"
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


def _title(what: str, count: str, seconds: float, budget: Budget, reference_score: float | None) -> str:
    acc = budget.kind == "accuracy_drop"
    ref = f", float model {100 * reference_score:.2f}%" if acc and reference_score is not None else ""
    return f"{what}: {count} in {seconds:.0f} s, budget {budget.describe()}{ref}"


def _cells(score: float, drop: float, acc: bool) -> tuple[str, str]:
    """A row's score and drop columns: accuracy in % and its drop in points, or the max error alone."""
    if acc:
        return f"{100 * score:8.2f}%", f"{100 * drop:+7.2f}"
    return f"{score:9.4g}", f"{'':>7}"


def table(result: SearchResult, cost: dict[int, str] | None = None) -> str:
    """Every variant tried, in order; the winner marked. `cost`: variant number -> estimated Pi 4 cost text."""
    b = result.budget
    acc = b.kind == "accuracy_drop"
    win = result.winner
    lines = [_title("precision search", f"{len(result.variants)} variant(s)", result.seconds, b,
                    result.reference_score),
             f"  {'#':>3} {'change':<40} {'eq':<3} {'16/fl':>5} {'accuracy' if acc else 'max err':>9} "
             f"{'drop' if acc else '':>7} {'bytes':>9}{'  Pi 4 cost (est.)' if cost else ''}"]
    for v in result.variants:
        score, drop = _cells(v.score, v.drop, acc)
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


def _distilled(info: dict[str, Any]) -> str:
    used = "soft targets and labels" if info["labels"] else "soft targets only: the training data has no labels"
    teacher = "the input model" if info["teacher"] == "input model" else info["teacher"]
    return (f"distilled from {teacher} (temperature {info['temperature']:g}, alpha {info['alpha']:g}: "
            f"{used})")


def sparsity_table(result, budget: Budget, reference_score: float | None) -> str:
    """The pruned variants of a sparsity search (`sparsity_search.SparsityResult`), the winner marked, and the
    ranking of the layers by what pruning each alone cost."""
    acc = budget.kind == "accuracy_drop"
    win = result.winner
    lines = [_title("sparsity search", f"{len(result.pruned)} pruned variant(s)", result.seconds, budget,
                    reference_score),
             f"  {'#':>3} {'change':<28} {'mean sp.':>8} {'float acc' if acc else 'float err':>9} "
             f"{'drop' if acc else '':>7}  precision search"]
    for p in result.pruned:
        score, drop = _cells(p.score, p.drop, acc)
        q = p.precision
        then = ("not run (float model over budget)" if q is None else
                f"#{q.winner.number} of {len(q.variants)} within budget" if q.winner is not None else
                f"none of {len(q.variants)} within budget")
        lines.append(f"  P{p.number:<2} {p.change[:28]:<28} {p.mean_sparsity:8.2f} {score} {drop}  {then}"
                     f"{' <- chosen' if p is win else ''}")
        lines.append(f"      {', '.join(f'{n} {s:.2f}' for n, s in p.sparsity.items())}")
    if result.ranking:
        shown = ", ".join(f"{n} {100 * d:+.1f} pts / {e:.3f}" if acc else f"{n} {d:.3g} / {e:.3f}"
                          for n, d, e in result.ranking)
        lines.append(f"  worst first, pruned alone one shot in float ({'drop' if acc else 'max error'} / mean "
                     f"relative output error): {shown}")
    tuned = result.fine_tuning
    if tuned:
        lines.append(f"  each pruning fine-tuned {tuned['epochs']} epoch(s) on {tuned['train_data']}"
                     + ("" if "distill" not in tuned else "; " + _distilled(tuned["distill"])))
    else:
        lines.append("  each pruning one shot (no --train-data: not fine-tuned)")
    return "\n".join(lines)
