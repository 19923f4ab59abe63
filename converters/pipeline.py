"""`edgelift.convert`: load -> prune -> cluster -> (QAT) -> quantize/emit -> report, with every argument
checked before any work starts and every output written atomically."""

from __future__ import annotations

import json
import os
import time
import warnings
from typing import Any

import numpy as np

from edgelift.atomic import write_bytes, write_text
from edgelift.errors import DataError, InvalidArgumentError

from . import isolated
from . import recipe as recipes
from .convert_options import ConvertOptions
from .convert_result import ConvertResult
from .warn import ConvertWarning


def _dataset(value, what: str, need_labels: bool):
    """Path / Dataset / array / (x, y) -> (x, y, description)."""
    from edgelift.data import Dataset, load_data

    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)):
        ds = load_data(value)
    elif isinstance(value, Dataset):
        ds = value
    elif isinstance(value, tuple) and len(value) == 2:
        ds = Dataset(np.asarray(value[0]), None if value[1] is None else np.asarray(value[1]), f"<{what} arrays>")
    elif isinstance(value, np.ndarray):
        ds = Dataset(value, None, f"<{what} array>")
    else:
        raise InvalidArgumentError(f"{what} of type {type(value).__name__} is not data",
                                   hint="pass a path (.npz, .npy, image folder), a numpy array or (x, y)")
    if need_labels and ds.y is None:
        raise DataError(f"{what} {ds.path!r} has no labels",
                        hint="save it as .npz with arrays x and y, or as an image folder per class"
                             + (", or add --distill (it fine-tunes on the float model's outputs, no labels needed)"
                                if what == "training data" else ""))
    return ds


def _fit_input(ds, model_input_shape, what: str) -> np.ndarray:
    x = ds.x
    if x.dtype.kind not in "fiu":
        raise DataError(f"{what} {ds.path!r} has dtype {x.dtype}; numeric inputs (float32) are required",
                        hint="save the model's float32 inputs, preprocessed as for training")
    want = tuple(model_input_shape[1:])
    if None not in want and tuple(x.shape[1:]) != want:
        raise DataError(f"{what} {ds.path!r} has samples of shape {tuple(x.shape[1:])}; the model input expects "
                        f"{want}", hint="reshape or resize the data to the model's input shape")
    return np.asarray(x, dtype=np.float32)


def convert(model=None, output=None, *, recipe=None, prune=None, prune_kind=None, block=None, prune_layers=None,
            keep_dense=None, cluster=None, quantize=None, io=None, per_channel=None, calibration=None,
            calibration_samples=None, qat=None, train_data=None, epochs=None, batch_size=None, eval_data=None,
            report=None, layers=None, equalize=None, bias_correction=None, target=None, distill=None, teacher=None,
            temperature=None, distill_alpha=None, max_accuracy_drop=None, max_error=None, search_budget=None,
            search_cost=None, options: ConvertOptions | None = None) -> ConvertResult:
    """Turn a Keras model into an optimized .tflite (and a JSON report); see `edgelift convert --help`.

    model: path (.keras, .h5, SavedModel dir) or in-memory tf_keras / Keras 3 model, or a float .tflite
    (quantized with ai-edge-quantizer; `layers` maps op-name regexes to their own mode). output: .tflite path.
    Data arguments take a path (.npz with x[, y], .npy, image folder), an array, or (x, y).
    target: "rpi4" / "rpi5" shapes --prune-kind block for that board's NEON sparse kernel (the default block) and
    narrows the report's sparse prediction to it (without: both boards).
    distill: fine-tune pruning/clustering/QAT against a teacher's soft outputs (teacher: a Keras model path;
    default the input model), temperature T (default 2), distill_alpha = weight of the soft loss (default 0.5;
    1.0 when train_data has no labels, which --distill accepts).
    max_accuracy_drop (fraction or "0.5%", needs labelled eval_data) / max_error (outputs vs the float model):
    search each layer's precision (int8 / int16x8 / float, equalization) within that budget, for at most
    search_budget minutes (`precision_search`); the winner is written with a recipe that replays it.
    search_cost: estimate the Pi 4 cost of the start and the winner with the meter (~40 s each).
    options: a `ConvertOptions` instead of the keywords (not both); either way every value is checked first.
    Returns a ConvertResult (output path, report dict, paths, warnings).
    """
    start = time.perf_counter()
    given = dict(prune=prune, prune_kind=prune_kind, block=block, prune_layers=prune_layers, keep_dense=keep_dense,
                 cluster=cluster, quantize=quantize, io=io, per_channel=per_channel, calibration=calibration,
                 calibration_samples=calibration_samples, qat=qat, train_data=train_data, epochs=epochs,
                 batch_size=batch_size, eval_data=eval_data, report=report, layers=layers, equalize=equalize,
                 bias_correction=bias_correction, target=target, distill=distill, teacher=teacher,
                 temperature=temperature, distill_alpha=distill_alpha, max_accuracy_drop=max_accuracy_drop,
                 max_error=max_error, search_budget=search_budget, search_cost=search_cost)
    if options is None:
        options = ConvertOptions.build(model, output, recipe=recipe, **given)
    else:
        extra = sorted(k for k, v in {**given, "model": model, "output": output, "recipe": recipe}.items()
                       if v is not None)
        if extra:
            raise InvalidArgumentError(f"give options or keywords, not both (keywords {extra})",
                                       hint="put every setting in the ConvertOptions")
        if not isinstance(options, ConvertOptions):
            raise InvalidArgumentError(f"options must be a ConvertOptions, got {type(options).__name__}",
                                       hint="edgelift.converters.convert_options.ConvertOptions.build(...)")
    return run(options, start)


def run(opts: ConvertOptions, start: float) -> ConvertResult:
    """Convert with checked options: the data is read, then the route's steps run and the outputs are written."""
    if opts.route == "search":
        from .search_convert import search_convert

        return search_convert(opts, start)
    cal = _dataset(opts.calibration, "calibration data", False)
    if opts.route == "tflite":  # a float .tflite (path or bytes): ai-edge-quantizer, no TensorFlow
        from .tflite_convert import convert_tflite

        return convert_tflite(opts, cal, start)
    if opts.route == "keras_layers":  # per-op modes: a float .tflite first, then ai-edge-quantizer
        from .keras_layers import convert_keras_layers

        return convert_keras_layers(opts, cal, start)

    from .distill_step import make_plan

    train = _dataset(opts.train_data, "training data", need_labels=not opts.distill)
    plan = make_plan(opts, train)
    if plan is not None:  # the recipe records the values used
        opts = opts.derived(distill_alpha=plan.alpha)
    evald = _dataset(opts.eval_data, "evaluation data", need_labels=False)
    args = (opts, plan, train, evald, cal, None)
    if isolated.in_process_forced():
        rep, tfl, used, msgs = run_steps(args, start)
    elif isinstance(opts.model, (str, os.PathLike)):
        # TensorFlow can crash the process (a GRU calibration segfaults): a child takes the crash, we report it
        rep, tfl, used, msgs = isolated.run(args, elapsed=time.perf_counter() - start, model=repr(str(opts.model)))
    else:
        rep, tfl, used, msgs = _run_in_memory(args, start)
    rep["warnings"] = msgs
    recipe_text = recipes.dump(used)  # serialize everything before writing anything
    report_text = json.dumps(rep, indent=2, default=_json_default) + "\n"
    write_bytes(opts.output_path, tfl)
    if opts.recipe_path is not None:
        write_text(opts.recipe_path, recipe_text)
    if opts.report_path:
        write_text(opts.report_path, report_text)
    for m in msgs:
        warnings.warn(m, ConvertWarning, stacklevel=3)
    return ConvertResult(opts.output_path, rep, opts.report_path, opts.recipe_path, msgs)


def _run_in_memory(args: tuple, start: float) -> tuple[dict, bytes, dict, list[str]]:
    """An in-memory model in the child, through a saved copy; in this process when it cannot make the trip."""
    from .memory_model import NotReloadable, handed_over, in_process_note, source_name

    opts = args[0]
    with handed_over(opts.model) as handover:
        if isinstance(handover, str):
            reason = handover
        else:
            # the model (in `given` too) travels as its saved copy: a subclassed model does not pickle
            child_args = (opts.derived(model=handover.path, given={**opts.given, "model": handover.path}),
                          *args[1:-1], handover)
            try:
                rep, tfl, used, msgs = isolated.run(child_args, elapsed=time.perf_counter() - start,
                                                    model=handover.source)
            except NotReloadable as exc:
                reason = exc.message
            else:
                return rep, tfl, {**used, "model": opts.model}, msgs
    rep, tfl, used, msgs = run_steps(args, start)
    note = in_process_note(source_name(opts.model), reason)
    return rep, tfl, used, [note, *msgs]


def run_steps(args: tuple, start: float) -> tuple[dict, bytes, dict, list[str]]:
    """The TensorFlow part of convert (also what the child process runs): report, .tflite, settings, warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvertWarning)
        rep, tfl, used = _run(*args, start)
    return rep, tfl, used, [str(w.message) for w in caught if issubclass(w.category, ConvertWarning)]


def _run(opts: ConvertOptions, plan, train, evald, cal, memory, start) -> tuple[dict, bytes, dict]:
    from . import report as reports
    from .load import count_params, load_model, working_copy
    from .policy import LayerPolicy
    from .quantize import check_calibration, qat, to_tflite
    from .stages import stage

    spec, n_clusters, qat_on, io_eff = opts.spec, opts.n_clusters, bool(opts.qat), opts.io
    epochs_n, batch_n, samples_n = opts.epochs, opts.batch_size, opts.calibration_samples
    policy = LayerPolicy(only=opts.prune_layers, keep_dense=opts.keep_dense)
    stage("loading the model")
    if memory is not None:  # in the child: the caller's in-memory model, saved for it
        from .memory_model import reload

        loaded = reload(memory)
    else:
        loaded = load_model(opts.model)
    try:
        km = loaded.keras_model
        inputs = (getattr(km, "inputs", None) or []) if km is not None else []  # none for subclassed models
        input_shape = tuple(inputs[0].shape) if inputs else None
        if len(inputs) > 1 and (cal or train or evald):
            raise DataError(f"the model has {len(inputs)} inputs; data files carry one input array",
                            hint="convert without data-driven steps, or export a single-input model")
        cal_x = None
        if cal is not None:
            shape = input_shape or (None, *cal.x.shape[1:])
            cal_x = check_calibration(cal.x, shape, cal.path, samples_n)
            if len(cal.x) < samples_n and "calibration_samples" in opts.given:
                from .warn import warn

                warn(f"calibration data has {len(cal.x)} samples, fewer than the {samples_n} requested; using all")
        train_xy = ((_fit_input(train, input_shape or (None, *train.x.shape[1:]), "training data"), train.y)
                    if train is not None else None)
        eval_x = _fit_input(evald, input_shape or (None, *evald.x.shape[1:]), "evaluation data") if evald else None
        outputs = (getattr(km, "outputs", None) or []) if km is not None else []
        if evald is not None and evald.y is not None and len(outputs) == 1 and len(outputs[0].shape) == 2:
            from edgelift.data import check_labels  # before any work, not after the conversion

            check_labels(evald.y, int(outputs[0].shape[-1]), f"evaluation data {evald.path!r}")

        steps: dict[str, Any] = {}
        params = count_params(km) if km is not None else None
        work = km  # quantization alone converts the user's model as is
        tfmot_steps = [name for name, on in (("pruning", spec is not None), ("clustering", n_clusters is not None),
                                             ("QAT", qat_on), ("--equalize", bool(opts.equalize)),
                                             ("--bias-correction", bool(opts.bias_correction))) if on]
        if tfmot_steps:  # TFMOT trains in place: work on a copy so the caller's model is never modified
            work = working_copy(loaded.require_keras(" and ".join(tfmot_steps)))
        if opts.equalize:
            from .equalize import equalize

            steps["equalize"] = equalize(work)
            if not steps["equalize"]["pairs"]:
                from .warn import warn

                warn("--equalize found no pair of Conv2D/Dense layers joined only by ReLU, pooling or Flatten; "
                     "the model is converted as it was")
            probe = cal_x if cal_x is not None else eval_x
            if probe is not None:  # equalization is exact in float: show it, on the data at hand
                ref = reports.keras_predict(km, probe[:64])
                got = reports.keras_predict(work, probe[:64])
                steps["equalize"]["max_output_change"] = float(np.max(np.abs(got - ref)) /
                                                              max(float(np.max(np.abs(ref))), 1e-30))
        fit_loss, distiller = None, None  # None: each step infers the loss from the labels
        if plan is not None:
            from .distill_step import Distiller

            stage("teacher outputs for distillation")
            distiller = Distiller(plan, work, km, train_xy)
            train_xy, fit_loss = distiller.train_xy, distiller.loss
            if plan.alpha_ignored is not None:
                from .warn import warn

                warn(f"--distill-alpha {plan.alpha_ignored:g} ignored: the training data has no labels, so "
                     "only the teacher's soft targets train (alpha 1.0)")
        if spec is not None:
            from .prune import prune

            stage("pruning")
            work, steps["prune"] = prune(work, spec, policy, train_xy, epochs=epochs_n, batch_size=batch_n,
                                     loss=fit_loss)
        if n_clusters is not None:
            from .cluster import cluster

            stage("clustering")
            cpolicy = type(policy)(only=policy.only, keep_dense=policy.keep_dense)
            work, steps["cluster"] = cluster(work, n_clusters, cpolicy, train_xy, preserve_sparsity=spec is not None,
                                             epochs=max(1, epochs_n // 2), batch_size=batch_n, loss=fit_loss)
        if opts.bias_correction:
            from .bias_correction import correct_biases

            steps["bias_correction"] = correct_biases(work, cal_x, per_channel=bool(opts.per_channel))
        final = work if (spec is not None or n_clusters is not None or opts.equalize
                         or opts.bias_correction) else None
        to_convert = work
        if qat_on:
            stage("quantization-aware training")
            to_convert = qat(work, train_xy, epochs=epochs_n, batch_size=batch_n,
                             preserve_sparsity=spec is not None, preserve_clusters=n_clusters is not None,
                             loss=fit_loss)
            steps["qat"] = {"kind": ("cluster-preserving" if n_clusters else
                                     "pruning-preserving" if spec else "standard"), "epochs": epochs_n}
        if distiller is not None:
            steps["distill"] = distiller.report(to_convert, opts.fine_tuning)
        stage(f"{'calibration and ' if cal_x is not None else ''}TFLite conversion (--quantize {opts.quantize})")
        if to_convert is not None:
            tfl = to_tflite(to_convert, quantize=opts.quantize, io=io_eff, calibration=cal_x,
                            per_channel=bool(opts.per_channel), qat=qat_on)
        else:
            tfl = to_tflite(saved_model_dir=loaded.saved_model_dir, quantize=opts.quantize, io=io_eff,
                            calibration=cal_x, per_channel=bool(opts.per_channel))
        from edgelift.device.runtime.prechecks import check_model

        check_model(tfl, "the converted model")  # a node TFLite's kernels would abort on: fail here, not on the Pi
        steps["quantize"] = {"mode": opts.quantize, "io": io_eff, "per_channel": bool(opts.per_channel),
                             "calibration": cal.path if cal else None,
                             "calibration_samples": 0 if cal_x is None else len(cal_x)}
        if "prune" in steps:
            _check_emitted_sparsity(steps["prune"], tfl)

        accuracy = None
        if evald is not None:
            stage("accuracy evaluation")
            accuracy = _accuracy(reports, km, final, tfl, eval_x, evald)
        rep = reports.build(loaded=loaded, final_keras=final if final is not None else km, tflite=tfl, steps=steps,
                            output=str(opts.output_path),
                            accuracy=accuracy, warnings=[], seconds=time.perf_counter() - start, params=params,
                            target=opts.target)
        from .sparse_report import dense_warning

        dense = dense_warning(rep["sparse_prediction"], spec.kind if spec else None, spec.block if spec else None)
        if dense:
            from .warn import warn

            warn(dense)
    finally:
        loaded.close()
    return rep, tfl, {**opts.settings(), "output": str(opts.output_path)}


def _check_emitted_sparsity(info: dict[str, Any], tfl: bytes) -> None:
    """Read each pruned layer's weights back from the emitted .tflite; warn if its zeros did not survive."""
    from edgelift.inspection import inspect

    from .warn import warn

    weights = inspect(tfl)["weights"]
    for entry in info["layers"]:
        name = entry["layer"]
        hits = [w for w in weights if any(part in (name, f"quant_{name}") for part in w["tensor"].split("/"))]
        entry["emitted_sparsity"] = hits[0]["sparsity"] if len(hits) == 1 else None
        entry["tensor"] = hits[0]["tensor"] if len(hits) == 1 else None
        if entry["emitted_sparsity"] is not None and entry["emitted_sparsity"] < entry["target"] - 0.01:
            warn(f"layer {name!r} has {entry['emitted_sparsity']:.0%} zero weights in the .tflite, below the "
                 f"{entry['target']:.0%} asked for")


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _accuracy(reports, original, final, tfl, x, ds) -> dict[str, Any]:
    y = ds.y
    out: dict[str, Any] = {"eval_data": ds.path, "samples": int(len(x)), "labels": y is not None}
    t_pred = reports.tflite_predict(tfl, x)
    if y is not None and t_pred.ndim == 2:
        from edgelift.data import check_labels

        check_labels(y, int(t_pred.shape[1]), f"evaluation data {ds.path!r}")
    t = reports.score(t_pred, y) if y is not None else None
    if t is None:  # no usable labels: agreement of the .tflite with the float model
        out["labels"] = False
        if original is not None:
            f_pred = reports.keras_predict(original, x)
            out["metric"] = "max_abs_diff_vs_float"
            out["float"] = 0.0
            out["tflite"] = float(np.max(np.abs(t_pred - f_pred)))
        return out
    metric = next(iter(t))
    out["metric"] = metric
    out["tflite"] = t[metric]
    out["float"] = reports.score(reports.keras_predict(original, x), y)[metric] if original is not None else None
    if final is not None:
        out["float_optimized"] = reports.score(reports.keras_predict(final, x), y)[metric]
    if out["float"] is not None and metric == "accuracy":
        out["delta_pp"] = round(100 * (out["tflite"] - out["float"]), 2)
    return out
