"""`edgelift.validate`: is the .tflite still right? Compare it with a reference, gate on thresholds.

The reference is a Keras model (in memory, .keras, .h5 or a SavedModel folder), a float .tflite, or the same
.tflite on another delegate (`reference_delegate="builtin"`). Per output: max / mean absolute error, SNR,
cosine similarity, top-1 agreement, and the accuracy of both when the data has labels. `exact=True` compares
two integer runs bit for bit. `per_layer=True` ranks the layers of a quantized model by the error each adds
(see `edgelift.device.checking.diagnose`).

TensorFlow is imported only when the reference is a Keras model (or per-layer diagnosis needs to convert
one), through `edgelift._tf`.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ...errors import DataError, InvalidArgumentError, InvalidModelError, ThresholdError
from ..runtime import dequantize, load_interpreter, model_bytes, quantize, random_like
from ..runtime.engines import make_engine
from .compare import compare, compare_exact
from .references import TFLiteReference, load_reference
from .validate_options import ValidateOptions
from .validation_result import ValidationResult

DEFAULT_RANDOM_SAMPLES = 100


# -- inputs -------------------------------------------------------------------------------------------
def _model_input_shapes(details) -> list[tuple[int, ...]]:
    return [tuple(int(s) for s in d["shape"][1:]) for d in details]


def _check_reference_io(ref, in_details, out_details) -> None:
    want_in = _model_input_shapes(in_details)
    want_out = _model_input_shapes(out_details)
    got_in, got_out = ref.input_shapes, ref.output_shapes

    def same(a, b):
        return len(a) == len(b) and all(x == y or x == -1 or y == -1 for x, y in zip(a, b, strict=True))

    if len(got_in) != len(want_in) or not all(same(a, b) for a, b in zip(got_in, want_in, strict=True)):
        raise InvalidModelError(
            f"the reference's inputs {got_in} do not match the model's inputs {want_in} (per sample)",
            hint="pass the reference the .tflite was converted from, with the same input shapes")
    if len(got_out) != len(want_out) or not all(same(a, b) for a, b in zip(got_out, want_out, strict=True)):
        raise InvalidModelError(
            f"the reference's outputs {got_out} do not match the model's outputs {want_out} (per sample)",
            hint="pass the reference the .tflite was converted from, with the same outputs")


def _prepare_data(data, samples: int | None, in_details, seed: int):
    """Return (x_raw list, x_float list, labels or None, description)."""
    if data is None:
        n = samples or DEFAULT_RANDOM_SAMPLES
        raw = random_like(in_details, seed=seed, batch=n)
        floats = [dequantize(r, d) for r, d in zip(raw, in_details, strict=True)]
        kinds = ", ".join(np.dtype(d["dtype"]).name for d in in_details)
        return raw, floats, None, f"random inputs ({kinds}, seed {seed})"
    from ...data import Dataset, check_against_input, load_data

    if isinstance(data, Dataset):
        ds = data
    elif isinstance(data, (str, os.PathLike)):
        ds = load_data(data)
    else:
        x, y = (data if isinstance(data, tuple) else (data, None))
        ds = Dataset(np.asarray(x), None if y is None else np.asarray(y), "arrays")
    if len(in_details) != 1:
        raise DataError(f"the model has {len(in_details)} inputs; data {ds.path!r} feeds single-input models",
                        hint="leave --data out to validate on random inputs")
    ds = ds.take(samples)
    d = in_details[0]
    x = check_against_input(ds, tuple(int(s) for s in d["shape"]))
    raw_dtype = np.dtype(d["dtype"])
    if x.dtype.kind == "f":
        xf = x.astype(np.float32)
        return [quantize(xf, d)], [xf], ds.y, f"{ds.path}"
    if x.dtype == raw_dtype:
        return [x], [dequantize(x, d)], ds.y, f"{ds.path} (raw {raw_dtype.name})"
    raise DataError(
        f"data {ds.path!r} has dtype {x.dtype}; the model input {d['name']!r} is {raw_dtype.name}",
        hint=f"pass float data (quantized for you with the model's scale) or raw {raw_dtype.name} values",
    )


def _same_quantization(a: dict[str, Any], b: dict[str, Any]) -> bool:
    qa, qb = a.get("quantization_parameters") or {}, b.get("quantization_parameters") or {}
    return (np.dtype(a["dtype"]) == np.dtype(b["dtype"])
            and np.array_equal(qa.get("scales", []), qb.get("scales", []))
            and np.array_equal(qa.get("zero_points", []), qb.get("zero_points", [])))


# -- the API ------------------------------------------------------------------------------------------
def validate(model: str | os.PathLike | bytes, reference=None, data=None,
             options: ValidateOptions | None = None, **settings) -> ValidationResult:
    """Compare `model` (on `options.delegate`) with `reference` on `data` (or random inputs); see the module doc.

    Settings are a `ValidateOptions` or its fields as keywords (delegate, reference_delegate, delegate_options,
    samples, atol, min_agreement, max_accuracy_drop, exact, max_lsb, per_layer, layer_threshold, report,
    threads, backend, runtime, seed, check, batch); every value is checked before any work. When a threshold is
    missed and `check` is true, ThresholdError is raised after the report is written; it carries the result as
    `.result`.
    """
    if options is None:
        options = ValidateOptions(**settings)
    elif settings:
        raise InvalidArgumentError(f"give options or keywords, not both (keywords {sorted(settings)})",
                                   hint="set them on the ValidateOptions instead")
    elif not isinstance(options, ValidateOptions):
        raise InvalidArgumentError(f"options must be a ValidateOptions, got {type(options).__name__}",
                                   hint="edgelift.device.checking.validate_options.ValidateOptions(...)")
    options.check_inputs(model, reference, data)
    return _validate(model, reference, data, options)


def _validate(model, reference, data, opts: ValidateOptions) -> ValidationResult:
    t_start = time.perf_counter()
    delegate, reference_delegate, threads, runtime = opts.delegate, opts.reference_delegate, opts.threads, opts.runtime
    exact, max_lsb, atol = opts.exact, opts.max_lsb, opts.atol
    agreement, drop = opts.min_agreement, opts.max_accuracy_drop

    meta = load_interpreter(model, "builtin", 1, None, runtime)  # shapes and quantization, any backend
    in_details, out_details = meta.input_details, meta.output_details
    content = model_bytes(model)[0]
    model_label = str(model) if isinstance(model, (str, os.PathLike)) else "<bytes>"
    ref = load_reference(reference, reference_delegate, model, threads, runtime)
    _check_reference_io(ref, in_details, out_details)
    if exact and not isinstance(ref, TFLiteReference):
        raise InvalidArgumentError(
            "--exact compares two runs of integer .tflite models bit for bit; the reference is a Keras model",
            hint="use --reference-delegate builtin (same .tflite) or a .tflite reference")
    x_raw, x_float, labels, data_label = _prepare_data(data, opts.samples, in_details, opts.seed)
    if labels is not None and len(out_details) == 1 and len(out_details[0]["shape"]) == 2:
        from ...data import check_labels

        check_labels(labels, int(out_details[0]["shape"][-1]), f"data {data_label!r}")
    if drop is not None and labels is None:
        raise InvalidArgumentError(
            f"max_accuracy_drop={opts.given['max_accuracy_drop']} needs labels; data {data_label!r} has none",
            hint="pass an .npz with arrays x and y, or a folder of class sub-folders")
    n = int(x_raw[0].shape[0])

    engine = make_engine(content if model_label == "<bytes>" else model, opts.backend, delegate, threads, opts.batch,
                         delegate_options=opts.engine_delegate_options, runtime=runtime)
    engine_label = engine.describe()
    try:
        out_raw = engine.predict_raw(x_raw)
    finally:
        if hasattr(engine, "close"):
            engine.close()
    out_float = [dequantize(o, d) for o, d in zip(out_raw, out_details, strict=True)]
    notes: list[str] = []
    if exact:
        ref_in = [xr if _same_quantization(d, md) else quantize(xf, d)
                  for xr, xf, d, md in zip(x_raw, x_float, ref.input_details, in_details, strict=True)]
        ref_raw = ref.predict_raw(ref_in)
        for o, r in zip(out_raw, ref_raw, strict=True):
            if o.dtype != r.dtype:
                raise InvalidArgumentError(
                    f"--exact needs the same output dtype on both sides; model {o.dtype}, reference {r.dtype}",
                    hint="compare the same .tflite on two delegates (--reference-delegate builtin)")
        ref_float = [dequantize(r, d) for r, d in zip(ref_raw, ref.output_details, strict=True)]
    else:
        ref_raw = None
        ref_float = ref.predict(x_float)

    if exact and "xnnpack" in (delegate, reference_delegate) and delegate != reference_delegate:
        notes.append("XNNPACK rounds differently from TFLite's builtin kernels (the numeric reference); differences "
                     "of 1-2 LSB are expected there — gate with --max-lsb 2, or compare neon/gpu for exactness")
    if exact and any(o.dtype.kind == "f" for o in out_raw):
        notes.append("float outputs: --exact counts differences in float32 ULPs (shown as LSB); kernels that sum in "
                     "another order differ by many ULPs on a float model — gate float models with --atol")
    if data is None:
        notes.append("random inputs cover the whole input range; pass --data (with labels) for accuracy figures")

    outputs = []
    failures: list[str] = []
    for i, d in enumerate(out_details):
        if ref_float[i].shape != out_float[i].shape:
            raise InvalidModelError(
                f"output {i}: the reference produced shape {ref_float[i].shape}, the model {out_float[i].shape}",
                hint="pass the reference the .tflite was converted from")
        m = compare(out_float[i], ref_float[i], labels)
        m.update({"index": i, "name": d["name"], "shape": [int(s) for s in out_float[i].shape]})
        if exact:
            m["exact"] = compare_exact(out_raw[i], ref_raw[i])
            if m["exact"]["max_lsb_difference"] > max_lsb:
                e = m["exact"]
                failures.append(
                    f"output {i}: {e['differing_elements']} of {e['elements']} elements differ, up to "
                    f"{e['max_lsb_difference']} LSB (allowed {max_lsb})")
        if atol is not None and m["max_abs_error"] > atol:
            failures.append(f"output {i}: max abs error {m['max_abs_error']:.6g} > atol {atol}")
        if agreement is not None and m["top1_agreement"] is not None and m["top1_agreement"] < agreement:
            failures.append(f"output {i}: top-1 agreement {100 * m['top1_agreement']:.2f}% < {100 * agreement:.2f}%")
        if drop is not None and m["accuracy_drop"] is not None and m["accuracy_drop"] > drop:
            failures.append(f"output {i}: accuracy drop {100 * m['accuracy_drop']:.2f} points > "
                            f"{100 * drop:.2f} points")
        outputs.append(m)
    if agreement is not None and all(o["top1_agreement"] is None for o in outputs):
        raise InvalidArgumentError(
            f"min_agreement={opts.given['min_agreement']} needs a classification output (last axis >= 2); outputs are "
            f"{[o['shape'] for o in outputs]}", hint="use --atol for regression outputs")
    if drop is not None and all(o["accuracy"] is None for o in outputs):
        raise InvalidArgumentError(
            f"max_accuracy_drop={opts.given['max_accuracy_drop']}: no output is a classifier matching the "
            "labels' shape",
            hint="use --atol or --min-agreement")

    diagnosis = None
    if opts.per_layer:
        from .diagnose import DEFAULT_THRESHOLD, diagnose

        float_ref = ref.float_tflite()
        if float_ref is None:
            raise InvalidArgumentError(
                "--per-layer compares a quantized model with its float reference; the reference is not float",
                hint="pass the Keras model or the float .tflite as --reference")
        diagnosis = diagnose(content, float_ref, x_float, threshold=opts.layer_threshold or DEFAULT_THRESHOLD,
                             runtime=runtime)

    result = ValidationResult(
        model=model_label,
        model_engine=engine_label,
        reference=ref.describe(),
        reference_kind=ref.kind if not (isinstance(ref, TFLiteReference) and reference is None) else "same-model",
        data=data_label,
        samples=n,
        outputs=outputs,
        thresholds={"atol": atol, "min_agreement": agreement, "max_accuracy_drop": drop,
                    "exact_max_lsb": max_lsb if exact else None},
        failures=failures,
        exact=exact,
        seconds=time.perf_counter() - t_start,
        diagnosis=diagnosis,
        notes=notes,
    )
    if opts.report is not None:
        from .report_html import validate_report

        validate_report(result, opts.report, model_source=content)
    if opts.check and failures:
        err = ThresholdError(
            f"validation failed: {'; '.join(failures)}",
            hint="see the per-layer ranking above" if diagnosis is not None else
            "inspect the per-output metrics above; --per-layer finds the layer that adds the error")
        err.result = result
        raise err
    return result

