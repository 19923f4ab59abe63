"""Per-layer sparsity under an accuracy budget: lower the sparsity of the layers pruning hurts most.

With `--prune` and `--max-accuracy-drop` / `--max-error`, the search prunes every selected layer to its target
(fine-tuned on `--train-data` when given, against a teacher's soft outputs with `--distill`; one shot
otherwise) and scores the pruned *float* model against the budget, measured from the unpruned float model: what
pruning alone costs. The layers are ranked once by what pruning each one alone (one shot, float) costs — its
accuracy drop, then its mean output error. While the pruned
model misses the budget, the next move halves the sparsity of the next layer in that ranking, and once every
layer was halved, keeps them dense in the same order; each move is one pruning (and fine-tuning) of the Keras
model. A pruned model within budget hands over to the precision search (int8 / int16x8 / float per op) against
the same budget and clock; when that finds no variant within budget, pruning left quantization too little of the
budget, and the relaxing goes on. The first pruned model whose precision search meets the budget wins: it has
the highest sparsity of those tried, since every move only lowers one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .precision_search import Evaluator, SearchInterrupted, SearchResult


@dataclass
class Pruned:
    """One pruning of the Keras model: each layer's target sparsity and what the pruned float model scores."""

    number: int
    change: str
    sparsity: dict[str, float]
    float_tflite: bytes
    score: float
    drop: float
    meets: bool
    precision: SearchResult | None = None  # the precision search run on it (when its float model met the budget)

    @property
    def size(self) -> int:
        return len(self.float_tflite)

    @property
    def mean_sparsity(self) -> float:
        return float(np.mean(list(self.sparsity.values()))) if self.sparsity else 0.0

    def as_dict(self) -> dict[str, Any]:
        p = self.precision
        return {"number": self.number, "change": self.change, "sparsity": self.sparsity, "float_score": self.score,
                "float_drop": self.drop, "float_meets_budget": self.meets,
                "precision_chosen": p.winner.number if p is not None and p.winner is not None else None,
                "precision_variants": len(p.variants) if p is not None else 0}


@dataclass
class SparsityResult:
    pruned: list[Pruned]
    ranking: list[tuple[str, float, float]]  # layer, drop, mean output error when pruned alone (worst first)
    seconds: float
    stopped: str
    fine_tuning: dict[str, Any] | None = None  # how each pruning was fine-tuned (None: one shot)

    @property
    def winner(self) -> Pruned | None:
        return next((p for p in self.pruned if p.precision is not None and p.precision.winner is not None), None)

    def as_dict(self) -> dict[str, Any]:
        win = self.winner
        return {"seconds": self.seconds, "stopped": self.stopped, "chosen": win.number if win else None,
                "fine_tuning": self.fine_tuning,
                "ranking": [{"layer": n, "drop": d, "mean_error": e} for n, d, e in self.ranking],
                "pruned": [p.as_dict() for p in self.pruned]}


def moves(ranking: list[str], start: dict[str, float], kind: str) -> list[tuple[str, float]]:
    """The relaxations in order: halve each layer's sparsity (worst first), then keep each dense. A 2:4 layer
    is half sparse or dense, so it only has the second."""
    halve = [] if kind == "2:4" else [(n, round(start[n] / 2, 3)) for n in ranking if start[n] > 0]
    return halve + [(n, 0.0) for n in ranking if start[n] > 0]


def _describe(sparsity: dict[str, float]) -> str:
    return ", ".join(f"{n} {s:.2f}" for n, s in sparsity.items())


def search_sparsity(prune: Callable[[dict[str, float] | None], tuple[bytes, dict[str, float]]],
                    prune_alone: Callable[[str, float], bytes], evaluate: Evaluator, kind: str,
                    precision: Callable[[Pruned, Evaluator, Callable], SearchResult], *,
                    progress=None, clock: Callable[[], float] = time.monotonic) -> SparsityResult:
    """`prune(targets)`: the pruned float .tflite and each layer's target (None: the user's settings);
    `prune_alone(layer, s)`: the float .tflite with that layer alone pruned one shot; `precision(pruned,
    evaluate, progress)`: the precision search on a pruned model, `evaluate` carrying the budget's time left."""
    from .report import tflite_predict

    budget = evaluate.budget
    t0 = clock()
    deadline = t0 + 60.0 * budget.minutes
    pruned: list[Pruned] = []
    ranking: list[tuple[str, float, float]] = []

    def show(p: Pruned) -> None:
        if progress is not None:
            what = "accuracy" if budget.kind == "accuracy_drop" else "max error"
            score = f"{100 * p.score:.2f}%" if budget.kind == "accuracy_drop" else f"{p.score:.4g}"
            progress.show(f"pruned P{p.number}: {p.change}: float {what} {score}", p.meets, clock() - t0)

    def attempt(targets: dict[str, float] | None, change: str) -> Pruned:
        tfl, used = prune(targets)
        score, drop, meets = evaluate(tfl)
        p = Pruned(len(pruned) + 1, change, used, tfl, score, drop, meets)
        pruned.append(p)
        show(p)
        if meets:
            left = max(deadline - clock(), 1.0) / 60.0
            timed = dataclasses.replace(evaluate, budget=dataclasses.replace(budget, minutes=left))
            offset = clock() - t0

            def nested(v, elapsed: float) -> None:
                if progress is not None:
                    progress.show(f"P{p.number} variant {v.number}: {v.change}", v.meets, offset + elapsed)

            p.precision = precision(p, timed, nested)
        return p

    def result(stopped: str) -> SparsityResult:
        return SparsityResult(pruned, ranking, clock() - t0, stopped)

    try:
        p = attempt(None, "every layer at its target")
        if p.precision is not None and p.precision.winner is not None:
            return result("met")
        for layer, s in p.sparsity.items():  # what pruning each layer alone costs, in float, one shot
            if s <= 0:
                continue
            out = tflite_predict(prune_alone(layer, s), evaluate.x).astype(np.float64)
            _, drop, _ = evaluate.score(out)
            err = float(np.mean(np.abs(out - evaluate.reference)) / max(float(np.mean(np.abs(evaluate.reference))),
                                                                         1e-30))
            ranking.append((layer, drop, err))
        ranking.sort(key=lambda r: (-r[1], -r[2]))
        targets = dict(p.sparsity)
        for layer, s in moves([r[0] for r in ranking], targets, kind):
            if clock() > deadline:
                return result("time")
            targets = {**targets, layer: s}
            base = pruned[-1]
            p = attempt(targets, f"P{base.number} + {layer} {'dense' if s == 0 else f'{s:.2f}'}")
            if p.precision is not None and p.precision.winner is not None:
                return result("met")
        return result("no more moves")
    except KeyboardInterrupt:
        best = min(pruned, key=lambda q: q.drop) if pruned else None
        raise SearchInterrupted(
            f"search interrupted after {len(pruned)} pruned variant(s); nothing was written"
            + (f"; best so far: P{best.number} ({_describe(best.sparsity)}), float model drop {best.drop:.4g}"
               if best else ""),
            hint="rerun it to the end; --search-budget MINUTES bounds how long it takes") from None
