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
from ..runtime import check_delegate_name, dequantize, load_interpreter, model_bytes, quantize, random_like
from ..runtime.engines import make_engine
from .compare import compare, compare_exact
from .references import TFLiteReference, load_reference
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


def _parse_fraction(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(str(value).rstrip("%")) / (100.0 if str(value).endswith("%") else 1.0)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}", hint="e.g. 0.99 or 99%") from None
    if not 0.0 <= v <= 1.0:
        raise InvalidArgumentError(f"{name} must lie in [0, 1] (or 0%..100%), got {value!r}", hint="e.g. 0.99")
    return v


# -- the API ------------------------------------------------------------------------------------------
def validate(
    model: str | os.PathLike | bytes,
    reference=None,
    data=None,
    delegate: str = "builtin",
    reference_delegate: str | None = None,
    delegate_options: dict[str, Any] | None = None,
    samples: int | None = None,
    atol: float | None = None,
    min_agreement: float | str | None = None,
    max_accuracy_drop: float | str | None = None,
    exact: bool = False,
    max_lsb: int = 0,
    per_layer: bool = False,
    layer_threshold: float | None = None,
    report: str | os.PathLike | None = None,
    threads: int = 1,
    backend: str = "litert",
    runtime: str | None = None,
    seed: int = 0,
    check: bool = True,
    batch: int = 32,
) -> ValidationResult:
    """Compare `model` (on `delegate`) with `reference` on `data` (or random inputs); see the module doc.

    `delegate_options` go to `delegate` when it is 'neon' or a library path (key/value strings).
    Thresholds: `atol` (max abs error, every output), `min_agreement` (top-1, 0..1 or '99%'),
    `max_accuracy_drop` (reference accuracy minus model accuracy, 0..1; needs labels), `exact` (bit for bit,
    up to `max_lsb`). When one is missed and `check` is true, ThresholdError is raised after the report is
    written; it carries the result as `.result`. `batch`: samples per call of the GPU backend.
    """
    t_start = time.perf_counter()
    if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
        raise InvalidArgumentError(f"samples must be a whole number >= 1, got {samples!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InvalidArgumentError(f"batch must be a whole number >= 1, got {batch!r}")
    if atol is not None and not (isinstance(atol, (int, float)) and atol >= 0):
        raise InvalidArgumentError(f"atol must be a number >= 0, got {atol!r}")
    agreement = _parse_fraction(min_agreement, "min_agreement")
    drop = _parse_fraction(max_accuracy_drop, "max_accuracy_drop")
    if isinstance(max_lsb, bool) or not isinstance(max_lsb, int) or max_lsb < 0:
        raise InvalidArgumentError(f"max_lsb must be a whole number >= 0, got {max_lsb!r}")
    delegate = check_delegate_name(delegate)
    if delegate_options and delegate in ("builtin", "xnnpack"):
        raise InvalidArgumentError(f"delegate options {sorted(delegate_options)} given for {delegate!r}, which takes "
                                   "none", hint="options apply to --delegate neon and to external delegate libraries")
    if reference_delegate is not None:
        reference_delegate = check_delegate_name(reference_delegate)
    if report is not None:
        from ...atomic import check_outputs

        check_outputs({"report": report}, {"model": model, "reference model": reference, "data": data})

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
    x_raw, x_float, labels, data_label = _prepare_data(data, samples, in_details, seed)
    if labels is not None and len(out_details) == 1 and len(out_details[0]["shape"]) == 2:
        from ...data import check_labels

        check_labels(labels, int(out_details[0]["shape"][-1]), f"data {data_label!r}")
    if drop is not None and labels is None:
        raise InvalidArgumentError(
            f"max_accuracy_drop={max_accuracy_drop} needs labels; data {data_label!r} has none",
            hint="pass an .npz with arrays x and y, or a folder of class sub-folders")
    n = int(x_raw[0].shape[0])

    engine = make_engine(content if model_label == "<bytes>" else model, backend, delegate, threads, batch,
                         delegate_options=delegate_options if delegate not in ("builtin", "xnnpack") else None,
                         runtime=runtime)
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
            f"min_agreement={min_agreement} needs a classification output (last axis >= 2); outputs are "
            f"{[o['shape'] for o in outputs]}", hint="use --atol for regression outputs")
    if drop is not None and all(o["accuracy"] is None for o in outputs):
        raise InvalidArgumentError(
            f"max_accuracy_drop={max_accuracy_drop}: no output is a classifier matching the labels' shape",
            hint="use --atol or --min-agreement")

    diagnosis = None
    if per_layer:
        from .diagnose import DEFAULT_THRESHOLD, diagnose

        float_ref = ref.float_tflite()
        if float_ref is None:
            raise InvalidArgumentError(
                "--per-layer compares a quantized model with its float reference; the reference is not float",
                hint="pass the Keras model or the float .tflite as --reference")
        diagnosis = diagnose(content, float_ref, x_float, threshold=layer_threshold or DEFAULT_THRESHOLD,
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
    if report is not None:
        from .report_html import validate_report

        validate_report(result, report, model_source=content)
    if check and failures:
        err = ThresholdError(
            f"validation failed: {'; '.join(failures)}",
            hint="see the per-layer ranking above" if diagnosis is not None else
            "inspect the per-output metrics above; --per-layer finds the layer that adds the error")
        err.result = result
        raise err
    return result

