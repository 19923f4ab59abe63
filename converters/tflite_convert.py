"""`edgelift convert MODEL.tflite`: quantize a float .tflite (MediaPipe, LiteRT-Torch, onnx2tf exports).

Every check runs before any work and before anything is written: options that need a Keras model (pruning,
clustering, QAT, training data) are refused by name, as are files that are already quantized, corrupt, or
hold custom ops LiteRT cannot run here. Then `tflite_prep` fixes what real exports break in the quantizer,
`tflite_quantize` runs ai-edge-quantizer, `tflite_io` gives float32 inputs/outputs when asked, and the result
is loaded by LiteRT once before it is written atomically with its recipe and report.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgelift.atomic import write_bytes, write_text
from edgelift.errors import DataError, InvalidArgumentError, InvalidModelError, UnsupportedModelError

from . import recipe as recipes

# settings that only mean something for a Keras model -> why, for the refusal line
KERAS_ONLY = {
    "prune": "pruning fine-tunes Keras weights", "prune_kind": "pruning fine-tunes Keras weights",
    "block": "pruning fine-tunes Keras weights", "prune_layers": "pruning fine-tunes Keras weights",
    "keep_dense": "pruning fine-tunes Keras weights", "cluster": "clustering fine-tunes Keras weights",
    "qat": "quantization-aware training trains a Keras model", "train_data": "there is no Keras model to train",
    "epochs": "there is no Keras model to train", "batch_size": "there is no Keras model to train",
    "eval_data": "convert measures accuracy against the Keras model",
    "equalize": "equalization rescales Keras layer weights", "bias_correction": "bias correction adjusts Keras biases",
    "target": "it shapes the pruning of Keras weights for a board's sparse kernel",
    **dict.fromkeys(("distill", "teacher", "temperature", "distill_alpha"), "distillation fine-tunes a Keras model"),
}
QUANTIZED_TYPES = ("INT8", "UINT8", "INT16", "INT4")
MIN_SAMPLES = 16  # as for Keras models (converters/quantize.py): fewer give unstable activation ranges


def is_tflite_path(model) -> bool:
    """A .tflite path, or flatbuffer bytes (in-memory models are Keras objects, never bytes)."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return True
    return isinstance(model, (str, os.PathLike)) and Path(model).suffix.lower() == ".tflite"


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def check_settings(settings: dict[str, Any], has_layers: bool) -> None:
    """Refuse, by name, what a .tflite input cannot do; mode, io and calibration must fit together."""
    for key, why in KERAS_ONLY.items():
        v = settings.get(key)
        if v is not None and v is not False:
            hint = ("validate the result against the float model: edgelift validate q.tflite -r MODEL.tflite "
                    "--data DATA" if key == "eval_data" else
                    "convert the Keras or SavedModel the .tflite came from, or drop the option")
            raise InvalidArgumentError(f"{_flag(key)} does not apply to a .tflite input ({why})", hint=hint)
    mode = settings.get("quantize") or "int8"
    if mode == "none":
        raise InvalidArgumentError("--quantize none on a .tflite input would only copy it",
                                   hint="choose --quantize int8, int16x8, dynamic or float16")
    if mode in ("dynamic", "float16") and settings.get("calibration") is not None and not has_layers:
        raise InvalidArgumentError(f"--calibration is not used by --quantize {mode} (weights only; no activation "
                                   "ranges are measured)", hint="drop --calibration, or use --quantize int8")


def _refuse_unusable(content: bytes, where: str):
    """The parsed model; refuse custom ops and models that are already quantized, naming what was found."""
    from edgelift.tflite_model import TFLiteModel

    m = TFLiteModel(content, path=where)
    custom = sorted({op.op_name for op in m.operators if op.is_custom})
    if custom:
        n = sum(op.is_custom for op in m.operators)
        raise UnsupportedModelError(
            f"{where} has custom ops {', '.join(custom)} ({n} of {len(m.operators)} nodes); the quantizer runs the "
            "model in LiteRT, which has no kernel for them", hint="export the model with builtin ops only "
            "(e.g. without the custom post-processing op), then convert it")
    quantized = [t for t in m.tensors if t.type_name in QUANTIZED_TYPES and t.is_quantized]
    if quantized:
        kinds = sorted({t.type_name for t in quantized})
        raise InvalidModelError(
            f"{where} is already quantized ({len(quantized)} {'/'.join(kinds)} tensors with scales, e.g. "
            f"{quantized[0].name!r})", hint="convert takes a float .tflite; use this one as it is "
            "(edgelift validate / bench / bundle), or convert its float original")
    return m


def _calibration(cal, m, signature_inputs: list[tuple[str, int]], samples: int) -> list[dict[str, np.ndarray]]:
    if len(signature_inputs) != 1:
        raise DataError(f"the model has {len(signature_inputs)} inputs; calibration files carry one input array",
                        hint="export a single-input model, or use --quantize dynamic / float16")
    name, index = signature_inputs[0]
    t = m.tensors[index]
    if t.type_name != "FLOAT32":
        raise InvalidModelError(f"the model's input {t.name!r} is {t.type_name}; calibration needs a FLOAT32 input",
                                hint="convert a model with float32 inputs")
    x = cal.x
    if x.dtype.kind not in "fiu":
        raise DataError(f"calibration data {cal.path!r} has dtype {x.dtype}; numeric inputs (float32) are required",
                        hint="save the model's float32 inputs, preprocessed as for training")
    want = tuple(t.shape[1:])
    if tuple(x.shape[1:]) != want:
        raise DataError(f"calibration data {cal.path!r} has samples of shape {tuple(x.shape[1:])}; the model input "
                        f"{t.name!r} expects {want} (model shape {list(t.shape)})",
                        hint="reshape or resize the calibration inputs to the model's input shape")
    if len(x) < MIN_SAMPLES:
        raise DataError(f"calibration data {cal.path!r} has {len(x)} samples; at least {MIN_SAMPLES} are needed for "
                        "stable activation ranges", hint="give a few hundred typical inputs")
    batch = t.shape[0] if t.shape and t.shape[0] > 0 else 1
    x = np.asarray(x[:samples], np.float32)
    usable = (len(x) // batch) * batch
    return [{name: x[i:i + batch]} for i in range(0, usable, batch)]


def _signature(prepared: bytes) -> tuple[str, list[tuple[str, int]]]:
    from . import tflite_prep

    m = tflite_prep.read(prepared, "the prepared model")
    sig = m.signatureDefs[0]
    key = sig.signatureKey.decode() if isinstance(sig.signatureKey, bytes) else sig.signatureKey
    names = [((tm.name.decode() if isinstance(tm.name, bytes) else tm.name), int(tm.tensorIndex))
             for tm in sig.inputs or []]
    return key, names


def convert_tflite(opts, cal, start: float, *, source: dict[str, Any] | None = None,
                   report_extra: dict[str, Any] | None = None):
    """The .tflite branch of `edgelift.convert`, for checked ConvertOptions (route "tflite", or a Keras model's
    float .tflite). `source`: recipe settings that made the float model given as bytes (a Keras path and its
    --equalize, which `keras_layers` replays); `report_extra`: sections added to the report (the search's)."""
    from . import tflite_prep, tflite_quantize
    from .convert_result import ConvertResult

    layers, mode, io_eff, samples_n = opts.layer_modes, opts.quantize, opts.io, opts.calibration_samples
    needs_cal = opts.needs_calibration
    in_memory = isinstance(opts.model, (bytes, bytearray, memoryview))
    src = Path("<bytes>") if in_memory else Path(opts.model)
    out_path, report_path, recipe_path = opts.output_path, opts.report_path, opts.recipe_path

    content = bytes(opts.model) if in_memory else src.read_bytes()
    where = "the given bytes" if in_memory else repr(str(src))
    tflite_prep.read(content, where)  # corrupt or not a .tflite: one line, before anything else
    m = _refuse_unusable(content, where)
    prepared, prep = tflite_prep.prepare(content, where)
    key, sig_inputs = _signature(prepared)
    calib = None
    if cal is not None and needs_cal:
        from edgelift.tflite_model import TFLiteModel

        calib = _calibration(cal, TFLiteModel(prepared), sig_inputs, samples_n)
    out = tflite_quantize.quantize(prepared, mode, per_channel=bool(opts.per_channel), layers=layers,
                                   calibration=calib, signature_key=key)
    if io_eff == "float32" and mode == "int8":
        from .tflite_io import float_io

        out = float_io(out)
    _check_loads(out)

    from edgelift.inspection import inspect

    info = inspect(out)
    rep = {
        "output": {"path": str(out_path), "size_bytes": len(out), "sha256": hashlib.sha256(out).hexdigest()},
        "source": {"model": "<bytes>" if in_memory else str(src), "format": "tflite", "file_bytes": len(content),
                   "ops": len(m.operators)},
        "steps": {"preprocess": prep.as_dict(),
                  "quantize": {"mode": mode, "io": io_eff, "per_channel": bool(opts.per_channel),
                               "tool": "ai-edge-quantizer", "layers": layers or None,
                               "calibration": cal.path if calib else None,
                               "calibration_samples": 0 if not calib else sum(len(next(iter(c.values())))
                                                                                for c in calib)}},
        "size": {"before_bytes": len(content), "after_bytes": len(out), "ratio": len(content) / len(out)},
        "sparsity": {"weight_sparsity": info["weight_sparsity"]},
        "ops": {row["op"]: row["count"] for row in info["op_histogram"]},
        "seconds": time.perf_counter() - start, "warnings": [],
    }
    used = {k: getattr(opts, k) for k in ("model", "quantize", "io", "per_channel", "calibration",
                                          "calibration_samples", "layers", "report")}
    used.update(output=str(out_path), io=io_eff, **(source or {}))
    if source:
        rep["source"].update(model=str(source.get("model")), format="keras, via a float .tflite")
    rep.update(report_extra or {})
    recipe_text = recipes.dump(used)
    report_text = json.dumps(rep, indent=2, default=str) + "\n"
    write_bytes(out_path, out)
    if recipe_path is not None:
        write_text(recipe_path, recipe_text)
    if report_path:
        write_text(report_path, report_text)
    return ConvertResult(out_path, rep, report_path, recipe_path, [])


def _check_loads(content: bytes) -> None:
    """LiteRT must build the quantized model (and its kernels must not abort on it) before we write it."""
    from edgelift.device.runtime.prechecks import check_model

    check_model(content, "the quantized model")
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from edgelift.native_stderr import captured

    try:
        with captured():  # the runtime's INFO lines; a failure arrives as the exception below
            Interpreter(model_content=content, experimental_op_resolver_type=OpResolverType.
                        BUILTIN_WITHOUT_DEFAULT_DELEGATES).allocate_tensors()
    except Exception as exc:
        raise UnsupportedModelError(f"LiteRT cannot load the quantized model: {str(exc).splitlines()[0][:300]}",
                                    hint="try --quantize dynamic or float16, or leave the named op float with a "
                                         "recipe `layers:` entry set to none") from None
