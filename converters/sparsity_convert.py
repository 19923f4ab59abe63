"""The sparsity search wired to convert: each pruning is a conversion of the Keras model to a float .tflite (in
TensorFlow's child, fine-tuned when --train-data is given), each pruned model's precision search quantizes it."""

from __future__ import annotations

import warnings

from .precision_search import SearchResult, search
from .sparsity_search import SparsityResult, search_sparsity


def search_pruned(opts, evaluate, diagnose_x, progress, make_source) -> tuple[SparsityResult, SearchResult | None]:
    """The sparsity search for checked options with --prune; returns it and the precision search of its winner
    (of the last pruned model searched when none won; None when no pruned model came within budget)."""
    from .keras_layers import pruned_float, pruning

    settings = pruning(opts)
    spec = opts.spec
    block = f"{spec.block[0]}x{spec.block[1]}"
    equalized = bool(opts.equalize)

    def prune(targets):
        with warnings.catch_warnings():  # one-shot and sparsity warnings: the table shows what each layer got
            warnings.simplefilter("ignore")
            return pruned_float(opts.model, equalized, {**settings, "prune_layers": targets} if targets else settings)

    def prune_alone(layer: str, s: float) -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pruned_float(opts.model, equalized, {"prune": s, "prune_kind": spec.kind, "block": block,
                                                        "prune_layers": [layer]})[0]

    def precision(pruned, timed, nested) -> SearchResult:
        return search({equalized: make_source(pruned.float_tflite)}, timed, diagnose_x, start_equalized=equalized,
                      progress=nested)

    result = search_sparsity(prune, prune_alone, evaluate, spec.kind, precision, progress=progress)
    chosen = result.winner
    if chosen is not None:
        return result, chosen.precision
    last = next((p.precision for p in reversed(result.pruned) if p.precision is not None), None)
    return result, last
