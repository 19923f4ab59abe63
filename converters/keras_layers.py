"""A Keras model with per-op quantize modes (`layers:`): TensorFlow converts it to a float .tflite (after
`--equalize` and pruning when asked), then ai-edge-quantizer quantizes each op as `layers:` says — the path the
precision search measures its candidates on, so the recipe it writes replays to the same bytes (with pruning,
to the same bytes when it was one shot; fine-tuning is not bit-reproducible)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

# what the float-.tflite route cannot do to a Keras model (these change Keras weights by training, or measure
# accuracy, which this route leaves to validate); ConvertOptions refuses them before any work
NOT_WITH_LAYERS = ("cluster", "qat", "bias_correction", "eval_data")
# the settings that prune the Keras model before its float .tflite is made
PRUNING_KEYS = ("prune", "prune_kind", "block", "prune_layers", "keep_dense", "target", "train_data", "distill",
                "teacher", "temperature", "distill_alpha", "epochs", "batch_size")


def pruning(opts) -> dict[str, Any]:
    """The checked options' pruning settings, as convert's keywords (none when nothing is pruned)."""
    if opts.spec is None:
        return {}
    settings = opts.settings()
    out = {k: settings[k] for k in PRUNING_KEYS if settings.get(k) is not None}
    if opts.train_data is None:  # one shot: nothing trains (--distill needs training data: refused before)
        out = {k: v for k, v in out.items() if k not in ("epochs", "batch_size")}
    if not opts.distill:  # a recipe's "distill: false" adds nothing
        out = {k: v for k, v in out.items() if k not in ("distill", "teacher", "temperature", "distill_alpha")}
    return out


def pruned_float(model, equalize: bool, prune: dict[str, Any] | None = None) \
        -> tuple[bytes, dict[str, float], dict[str, Any]]:
    """The model as a float .tflite, equalized and pruned first when asked (a conversion of its own, in
    TensorFlow's child), each pruned layer's target sparsity, and that conversion's report steps."""
    from .pipeline import convert

    with tempfile.TemporaryDirectory(prefix="edgelift-float-") as tmp:
        out = Path(tmp) / "float.tflite"
        res = convert(model, str(out), quantize="none", equalize=bool(equalize) or None, **(prune or {}))
        steps = res.report.get("steps", {})
        layers = (steps.get("prune") or {}).get("layers", [])
        return out.read_bytes(), {e["layer"]: float(e["target"]) for e in layers}, steps


def float_tflite(model, equalize: bool, prune: dict[str, Any] | None = None) -> bytes:
    return pruned_float(model, equalize, prune)[0]


def convert_keras_layers(opts, cal, start: float, *, float_model: bytes | None = None,
                         report_extra: dict[str, Any] | None = None):
    """`convert` of a Keras model with `layers:` (checked ConvertOptions); `float_model`: its float .tflite when
    the caller has it."""
    from .tflite_convert import convert_tflite

    equalize = bool(opts.equalize)
    prune = pruning(opts)
    content = float_model if float_model is not None else float_tflite(opts.model, equalize, prune)
    return convert_tflite(opts.derived(model=content, equalize=False), cal, start,
                          source={"model": opts.model, "equalize": equalize or None, **prune},
                          report_extra=report_extra)
