"""Pick each layer's precision under an accuracy budget: a greedy search driven by the per-layer diagnosis.

The candidates are ai-edge-quantizer runs of one float .tflite (or of its cross-layer-equalized twin) with
per-op modes over an all-int8 default. Start all-int8; while no variant meets the budget: diagnose the best
variant so far (`device/diagnose.py`, which names the layer whose output range causes the loss), and try that
layer's output tensor in int16x8 and in float, then the next-worst (past the layers that add error, the next in
the diagnosis's order, so a search gives up only once every group is float); equalization is a candidate too.
Each round keeps the best variant; the search ends at the first round with a variant within budget (the
smallest of those wins; ties: fewer ops off int8) or when time or ideas run out.

A layer's precision is a property of its output tensor, read by the ops that consume it: keeping only the
producer off int8 re-quantizes the tensor to int8 at the consumer's input, with the same crushing. So a move
changes the producer and every consumer of its output together (measured on examples/digits/outlier.py: conv3
alone in float, or conv3 + the pooling after it, leave accuracy at 10%; conv3 + pooling in int16x8 with fc1
and the logits layer in float: 95.98%, the float model's figure).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelift.errors import EdgeliftError, InvalidArgumentError, UnsupportedModelError

DEFAULT_MINUTES = 10.0
MODE_ORDER = ("int8", "int16x8", "none")  # a move never takes an op back down this list
WORST_PER_ROUND = 2  # diagnosed layers tried per round (each in int16x8 and in float)


# -- the budget ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    kind: str  # "accuracy_drop" (needs labels) or "max_error" (max |quantized - float| of the outputs)
    limit: float
    minutes: float = DEFAULT_MINUTES
    meter: bool = False  # estimate the Pi 4 cost of the start and the winner (search_cost.py; ~40 s each)

    def describe(self) -> str:
        if self.kind == "accuracy_drop":
            return f"accuracy drop <= {100 * self.limit:g} points"
        return f"max |output - float| <= {self.limit:g}"


def _number(value, flag: str, example: str) -> float:
    text = str(value).strip()
    try:
        v = float(text)
    except ValueError:
        raise InvalidArgumentError(f"{flag} {value!r} is not a number", hint=f"e.g. {flag} {example}") from None
    if not math.isfinite(v) or v < 0:
        raise InvalidArgumentError(f"{flag} {value!r} must be a finite number >= 0", hint=f"e.g. {flag} {example}")
    return v


def check_budget(max_accuracy_drop=None, max_error=None, search_budget=None, search_cost=None) -> Budget | None:
    """The budget the flags ask for (None: no search); bad values are refused before any work."""
    if max_accuracy_drop is None and max_error is None:
        for value, flag, what in ((search_budget, "--search-budget", "bounds"), (search_cost, "--search-cost",
                                                                               "meters the result of")):
            if value:
                raise InvalidArgumentError(f"{flag} {what} a precision search, and none was asked for",
                                           hint="add --max-accuracy-drop P (with labelled --eval-data) or "
                                                "--max-error E")
        return None
    meter = bool(search_cost)
    if max_accuracy_drop is not None and max_error is not None:
        raise InvalidArgumentError(
            f"--max-accuracy-drop {max_accuracy_drop} and --max-error {max_error} given together; the search meets "
            "one budget", hint="keep --max-accuracy-drop (labelled eval data) or --max-error (no labels needed)")
    minutes = DEFAULT_MINUTES
    if search_budget is not None:
        minutes = _number(search_budget, "--search-budget", "10 (minutes)")
        if minutes <= 0:
            raise InvalidArgumentError(f"--search-budget {search_budget!r} must be more than 0 minutes",
                                       hint="e.g. --search-budget 10")
    if max_accuracy_drop is not None:
        from edgelift.option_checks import fraction  # validate's --max-accuracy-drop reads the same way

        return Budget("accuracy_drop", fraction("--max-accuracy-drop", max_accuracy_drop), minutes, meter)
    return Budget("max_error", _number(max_error, "--max-error", "0.05"), minutes, meter)


# -- the float models the candidates quantize ---------------------------------------------------------
@dataclass
class Source:
    """One float model (prepared for ai-edge-quantizer) with what quantizing it needs."""

    equalized: bool
    prepared: bytes
    signature_key: str
    calibration: list[dict[str, np.ndarray]]
    per_channel: bool = True
    scopes: list[str] = field(default_factory=list)  # per op, the quantizer's scope string (output names + ";")
    labels: list[str] = field(default_factory=list)  # per op, a short name for the table
    producers: dict[str, int] = field(default_factory=dict)  # tensor name -> op index
    consumers: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from edgelift.tflite_model import TFLiteModel

        m = TFLiteModel(self.prepared)
        for op in m.operators:
            names = [m.tensors[t].name for t in op.outputs if t >= 0]
            self.scopes.append("".join(n + ";" for n in names))
            self.labels.append(op_label(self.scopes[-1], op.op_name, op.index))
            for n in names:
                self.producers[n] = op.index
            for t in op.inputs:
                if t >= 0 and not m.tensors[t].is_constant:
                    self.consumers.setdefault(m.tensors[t].name, []).append(op.index)

    def regex(self, op: int) -> str:
        """A regex naming op `op` alone: its scope's first name segment where that is unique, else all of it."""
        short = "^" + re.escape(self.scopes[op].split(";")[0]) + ";"
        if sum(bool(re.search(short, s)) for s in self.scopes) == 1:
            return short
        return "^" + re.escape(self.scopes[op]) + "$"

    def group(self, tensor: str) -> list[int]:
        """The ops that decide a tensor's precision: its producer and every consumer."""
        ops = [self.producers[tensor]] if tensor in self.producers else []
        return sorted(set(ops + self.consumers.get(tensor, [])))

    def quantize(self, layers: dict[str, str]) -> bytes:
        from .tflite_quantize import quantize

        return quantize(self.prepared, "int8", per_channel=self.per_channel, layers=layers,
                        calibration=self.calibration, signature_key=self.signature_key)


# -- variants -----------------------------------------------------------------------------------------
@dataclass
class Variant:
    number: int
    change: str  # the variant it grew from and what it changed: "#3 + conv3+gap float"
    equalized: bool
    layers: dict[str, str]  # regex -> mode, over the all-int8 default
    tflite: bytes
    score: float  # accuracy (accuracy_drop budgets) or max abs error
    drop: float  # reference accuracy - score, or the error itself
    meets: bool

    @property
    def size(self) -> int:
        return len(self.tflite)

    @property
    def off_int8(self) -> int:
        return sum(mode != "int8" for mode in self.layers.values())

    @property
    def key(self) -> tuple:
        return self.equalized, tuple(sorted(self.layers.items()))

    def rank(self) -> tuple:
        """Among variants within budget: the smallest, then the fewest ops off int8."""
        return self.size, self.off_int8, self.number

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "change": self.change, "equalize": self.equalized, "layers": self.layers,
                "score": self.score, "drop": self.drop, "size_bytes": self.size, "meets_budget": self.meets}


@dataclass
class Evaluator:
    """Scores a candidate with LiteRT's builtin kernels against the float model's outputs or the labels."""

    budget: Budget
    x: np.ndarray
    y: np.ndarray | None
    reference: np.ndarray  # the float model's outputs on x
    finish: Callable[[bytes], bytes] = field(default=lambda tflite: tflite)  # e.g. float32 io, as convert emits

    @property
    def reference_score(self) -> float | None:
        if self.budget.kind != "accuracy_drop":
            return None
        return float(np.mean(self.reference.argmax(axis=1) == self.y))

    def __call__(self, tflite: bytes) -> tuple[float, float, bool]:
        from .report import tflite_predict

        return self.score(tflite_predict(tflite, self.x))

    def score(self, out: np.ndarray) -> tuple[float, float, bool]:
        """(score, drop, within budget) of a model's outputs on x."""
        if self.budget.kind == "accuracy_drop":
            score = float(np.mean(out.argmax(axis=1) == self.y))
            drop = self.reference_score - score
        else:
            score = drop = float(np.max(np.abs(out.astype(np.float64) - self.reference)))
        return score, drop, drop <= self.budget.limit + 1e-12


class SearchInterrupted(EdgeliftError):
    """Ctrl-C during the search: nothing was written; the message names the best variant so far."""

    exit_code = 130


@dataclass
class SearchResult:
    budget: Budget
    variants: list[Variant]
    reference_score: float | None
    seconds: float
    stopped: str  # why the search ended: "met", "time", "no more moves"

    @property
    def winner(self) -> Variant | None:
        within = [v for v in self.variants if v.meets]
        return min(within, key=Variant.rank) if within else None

    @property
    def best(self) -> Variant:
        """The variant closest to the budget (what is shown when none meets it)."""
        return min(self.variants, key=lambda v: (v.drop, v.size, v.number))


def op_label(scope: str, op_name: str, index: int) -> str:
    """A short name for the table: the layer part of an op's first output name (digits_cnn/conv3/Relu -> conv3),
    else the op and its index (a graph output is often named StatefulPartitionedCall:0)."""
    parts = [p for p in scope.split(";")[0].split("/") if p]
    return parts[-2] if len(parts) >= 3 else f"{op_name.lower()}#{index}"


def _merge(layers: dict[str, str], moves: dict[str, str]) -> dict[str, str]:
    out = dict(layers)
    for regex, mode in moves.items():
        if MODE_ORDER.index(mode) > MODE_ORDER.index(out.get(regex, "int8")):
            out[regex] = mode
    return out


def search(sources: dict[bool, Source], evaluate: Evaluator, diagnose_x: np.ndarray, *,
           start_equalized: bool = False, progress: Callable[[Variant, float], None] | None = None,
           clock: Callable[[], float] = time.monotonic) -> SearchResult:
    """Greedy search; `sources` maps equalized? -> Source (True where equalization ran; only True when the user
    asked for --equalize, with start_equalized). `diagnose_x`: float inputs for the per-layer diagnosis."""
    from edgelift.device.checking.diagnose import diagnose

    budget = evaluate.budget
    t0 = clock()
    deadline = t0 + 60.0 * budget.minutes
    variants: list[Variant] = []
    seen: set[tuple] = set()

    def attempt(equalized: bool, layers: dict[str, str], change: str) -> Variant | None:
        key = (equalized, tuple(sorted(layers.items())))
        if key in seen or (variants and clock() > deadline):  # the all-int8 start always runs
            return None
        seen.add(key)
        tfl = evaluate.finish(sources[equalized].quantize(layers))
        score, drop, meets = evaluate(tfl)
        v = Variant(len(variants) + 1, change, equalized, dict(layers), tfl, score, drop, meets)
        variants.append(v)
        if progress is not None:
            progress(v, clock() - t0)
        return v

    def result(stopped: str) -> SearchResult:
        return SearchResult(budget, variants, evaluate.reference_score, clock() - t0, stopped)

    try:
        base = attempt(start_equalized, {}, "all int8" + (" (equalized)" if start_equalized else ""))
        stopped = "met"
        while base is not None and not base.meets:  # (the first attempt always runs: base is a variant)
            tried: list[Variant | None] = []
            if not base.equalized and True in sources:
                tried.append(attempt(True, base.layers, f"#{base.number} + equalize"))
            src = sources[base.equalized]
            try:
                ranked = diagnose(base.tflite, src.prepared, diagnose_x).ranked
            except UnsupportedModelError:  # every activation already float: nothing left to move
                ranked = []
            moved = 0
            for e in ranked:  # worst added error first; past those that add error, the rest in order, so the
                if moved == WORST_PER_ROUND:  # search goes on (towards all float) until a move helps
                    break
                group = src.group(e.tensor)
                fresh = []  # the group's moves not tried yet from this base
                for mode in ("int16x8", "none") if group else ():
                    merged = _merge(base.layers, {src.regex(op): mode for op in group})
                    if (base.equalized, tuple(sorted(merged.items()))) not in seen:
                        fresh.append((mode, merged))
                if not fresh:
                    continue
                moved += 1
                names = "+".join(dict.fromkeys(src.labels[op] for op in group))
                for mode, merged in fresh:
                    tried.append(attempt(base.equalized, merged,
                                         f"#{base.number} + {names} {'float' if mode == 'none' else mode}"))
            new = [v for v in tried if v is not None]
            if any(v.meets for v in new):
                break
            if not new:
                stopped = "time" if clock() > deadline else "no more moves"
                break
            base = min(new, key=lambda v: (v.drop, v.size, v.number))
    except KeyboardInterrupt:
        best = result("interrupted").best if variants else None
        raise SearchInterrupted(
            f"search interrupted after {len(variants)} variant(s); nothing was written"
            + (f"; best so far: #{best.number} {best.change}, {describe_score(best, budget)}" if best else ""),
            hint="rerun it to the end; --search-budget MINUTES bounds how long it takes") from None
    return result(stopped)


def describe_score(v: Variant, budget: Budget) -> str:
    if budget.kind == "accuracy_drop":
        return f"accuracy {100 * v.score:.2f}% (drop {100 * v.drop:+.2f} points), {v.size:,} bytes"
    return f"max error {v.score:.4g}, {v.size:,} bytes"
