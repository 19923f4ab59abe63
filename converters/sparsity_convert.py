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

    trained: dict = {}  # how each pruning was fine-tuned (the same settings every time): the report says it

    def prune(targets):
        with warnings.catch_warnings():  # one-shot and sparsity warnings: the table shows what each layer got
            warnings.simplefilter("ignore")
            tfl, used, steps = pruned_float(opts.model, equalized,
                                            {**settings, "prune_layers": targets} if targets else settings)
        if (steps.get("prune") or {}).get("fine_tuned"):
            trained.update(fine_tuning(settings, steps))
        return tfl, used

    def prune_alone(layer: str, s: float) -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pruned_float(opts.model, equalized, {"prune": s, "prune_kind": spec.kind, "block": block,
                                                        "prune_layers": [layer]})[0]

    def precision(pruned, timed, nested) -> SearchResult:
        return search({equalized: make_source(pruned.float_tflite)}, timed, diagnose_x, start_equalized=equalized,
                      progress=nested)

    result = search_sparsity(prune, prune_alone, evaluate, spec.kind, precision, progress=progress)
    result.fine_tuning = trained or None
    chosen = result.winner
    if chosen is not None:
        return result, chosen.precision
    last = next((p.precision for p in reversed(result.pruned) if p.precision is not None), None)
    return result, last


def fine_tuning(settings: dict, steps: dict) -> dict:
    """What fine-tuned each pruned model: the data, epochs and, with --distill, what the distillation used."""
    out = {"train_data": str(settings["train_data"]), "epochs": settings.get("epochs"),
           "batch_size": settings.get("batch_size")}
    if "distill" in steps:
        out["distill"] = {k: v for k, v in steps["distill"].items() if k not in ("final_loss", "final_loss_on")}
    return out
