"""A Keras model with per-op quantize modes (`layers:`): TensorFlow converts it to a float .tflite (after
`--equalize` when asked), then ai-edge-quantizer quantizes each op as `layers:` says — the path the precision
search measures its candidates on, so the recipe it writes replays to the same bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from edgelift.errors import InvalidArgumentError

# what the float-.tflite route cannot do to a Keras model (pruning and the rest change Keras weights by training)
_NOT_WITH_LAYERS = ("prune", "cluster", "qat", "train_data", "bias_correction", "eval_data", "target")


def float_tflite(model, equalize: bool) -> bytes:
    """The model as a float .tflite, equalized first when asked (a conversion of its own, in TensorFlow's child)."""
    from .pipeline import convert

    with tempfile.TemporaryDirectory(prefix="edgelift-float-") as tmp:
        out = Path(tmp) / "float.tflite"
        convert(model, str(out), quantize="none", equalize=bool(equalize) or None)
        return out.read_bytes()


def convert_keras_layers(s: dict[str, Any], settings: dict[str, Any], recipe_arg, cal, samples_n: int, start: float,
                         *, float_model: bytes | None = None, report_extra: dict[str, Any] | None = None):
    """`convert` of a Keras model with `layers:`; `float_model`: its float .tflite when the caller has it."""
    from .tflite_convert import convert_tflite

    for key in _NOT_WITH_LAYERS:
        if settings.get(key) not in (None, False):
            raise InvalidArgumentError(
                f"{key} with layers: (per-op quantize modes) on a Keras model: that route quantizes a float .tflite "
                "of the model with ai-edge-quantizer, which neither trains nor measures accuracy",
                hint="drop layers: for pruning / clustering / QAT / bias correction; check accuracy with edgelift "
                     "validate OUT.tflite -r MODEL --data DATA")
    equalize = bool(s.get("equalize"))
    content = float_model if float_model is not None else float_tflite(s["model"], equalize)
    inner = {**s, "model": content, "equalize": False}
    given = {k: v for k, v in settings.items() if k not in ("model", "equalize")}
    return convert_tflite(inner, given, recipe_arg, cal, samples_n, start,
                          source={"model": s["model"], "equalize": equalize or None}, report_extra=report_extra)
