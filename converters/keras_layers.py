"""A Keras model with per-op quantize modes (`layers:`): TensorFlow converts it to a float .tflite (after
`--equalize` when asked), then ai-edge-quantizer quantizes each op as `layers:` says — the path the precision
search measures its candidates on, so the recipe it writes replays to the same bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

# what the float-.tflite route cannot do to a Keras model (pruning and the rest change Keras weights by training);
# ConvertOptions refuses them before any work
NOT_WITH_LAYERS = ("prune", "cluster", "qat", "train_data", "bias_correction", "eval_data", "target")


def float_tflite(model, equalize: bool) -> bytes:
    """The model as a float .tflite, equalized first when asked (a conversion of its own, in TensorFlow's child)."""
    from .pipeline import convert

    with tempfile.TemporaryDirectory(prefix="edgelift-float-") as tmp:
        out = Path(tmp) / "float.tflite"
        convert(model, str(out), quantize="none", equalize=bool(equalize) or None)
        return out.read_bytes()


def convert_keras_layers(opts, cal, start: float, *, float_model: bytes | None = None,
                         report_extra: dict[str, Any] | None = None):
    """`convert` of a Keras model with `layers:` (checked ConvertOptions); `float_model`: its float .tflite when
    the caller has it."""
    from .tflite_convert import convert_tflite

    equalize = bool(opts.equalize)
    content = float_model if float_model is not None else float_tflite(opts.model, equalize)
    return convert_tflite(opts.derived(model=content, equalize=False), cal, start,
                          source={"model": opts.model, "equalize": equalize or None}, report_extra=report_extra)
