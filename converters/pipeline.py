"""`edgelift.convert`: load -> prune -> cluster -> (QAT) -> quantize/emit -> report, with every argument
checked before any work starts and every output written atomically."""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from edgelift.atomic import check_outputs, write_bytes, write_text
from edgelift.errors import DataError, InvalidArgumentError, ModelNotFoundError

from . import isolated
from . import recipe as recipes
from .convert_result import ConvertResult
from .warn import ConvertWarning

DEFAULTS: dict[str, Any] = {
    "prune": None, "prune_kind": "unstructured", "block": "1x4", "prune_layers": None, "keep_dense": None,
    "cluster": None, "quantize": "int8", "io": None, "per_channel": True, "calibration": None,
    "calibration_samples": 100, "qat": False, "train_data": None, "epochs": 2, "batch_size": 32,
    "eval_data": None, "report": None, "layers": None, "equalize": False, "bias_correction": False, "target": None,
    "distill": False, "teacher": None, "temperature": None, "distill_alpha": None,  # distill_step.py
}


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
                        hint="save it as .npz with arrays x and y, or as an image folder per class")
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


MIN_CALIBRATION_SAMPLES = 10


def _positive_int(value, flag: str) -> int:
    try:
        v = int(str(value).strip())
    except (TypeError, ValueError):
        v = 0
    if v < 1:
        raise InvalidArgumentError(f"{flag} {value} must be a whole number >= 1", hint=f"e.g. {flag} 2")
    return v


def _names(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    out = [str(v).strip() for v in value if str(v).strip()]
    return [] if out in (["none"], ["None"]) else out


def convert(model=None, output=None, *, recipe=None, prune=None, prune_kind=None, block=None, prune_layers=None,
            keep_dense=None, cluster=None, quantize=None, io=None, per_channel=None, calibration=None,
            calibration_samples=None, qat=None, train_data=None, epochs=None, batch_size=None, eval_data=None,
            report=None, layers=None, equalize=None, bias_correction=None, target=None, distill=None, teacher=None,
            temperature=None, distill_alpha=None, max_accuracy_drop=None, max_error=None, search_budget=None,
            search_cost=None) -> ConvertResult:
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
    Returns a ConvertResult (output path, report dict, paths, warnings).
    """
    start = time.perf_counter()
    given = dict(model=model, output=output, prune=prune, prune_kind=prune_kind, block=block,
                 prune_layers=prune_layers, keep_dense=keep_dense, cluster=cluster, quantize=quantize, io=io,
                 per_channel=per_channel, calibration=calibration, calibration_samples=calibration_samples,
                 qat=qat, train_data=train_data, epochs=epochs, batch_size=batch_size, eval_data=eval_data,
                 report=report, layers=layers, equalize=equalize, bias_correction=bias_correction, target=target,
                 distill=distill, teacher=teacher, temperature=temperature, distill_alpha=distill_alpha)
    recipes.check_types(given, "convert")
    settings = recipes.merge(recipes.load_recipe(recipe) if recipe is not None else {}, given)
    s = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    s["_samples_explicit"] = settings.get("calibration_samples") is not None
    from .target import check_target, default_block

    s["target"] = check_target(s["target"])
    if s["target"] and settings.get("block") is None:  # the block the target's sparse kernel skips whole
        s["block"] = default_block(s["target"])
    if s.get("model") is None:
        raise InvalidArgumentError("no model given", hint="pass MODEL (a .keras, .h5 or SavedModel directory)")
    if s.get("output") is None:
        raise InvalidArgumentError("no output path given", hint="pass -o OUT.tflite")
    from .precision_search import check_budget

    budget = check_budget(max_accuracy_drop, max_error, search_budget, search_cost)
    if budget is not None:
        from .search_convert import search_convert

        return search_convert(s, settings, recipe, budget, start)
    from .tflite_convert import convert_tflite, is_tflite_path

    if is_tflite_path(s["model"]):  # a float .tflite (path or bytes): ai-edge-quantizer, no TensorFlow
        if not isinstance(s["model"], (bytes, bytearray, memoryview)) and not Path(s["model"]).exists():
            raise ModelNotFoundError(f"model path {str(s['model'])!r} does not exist", hint="check the path")
        samples_n = _positive_int(s["calibration_samples"], "--calibration-samples")
        if samples_n < MIN_CALIBRATION_SAMPLES:
            raise InvalidArgumentError(f"--calibration-samples {samples_n} is below {MIN_CALIBRATION_SAMPLES}",
                                       hint="use 100-500 typical inputs (the default is 100)")
        return convert_tflite(s, settings, recipe, _dataset(s["calibration"], "calibration data", False),
                              samples_n, start)
    if settings.get("layers") is not None:  # per-op modes: a float .tflite first, then ai-edge-quantizer
        from .keras_layers import convert_keras_layers

        if isinstance(s["model"], (str, os.PathLike)) and not Path(s["model"]).exists():
            raise ModelNotFoundError(f"model path {str(s['model'])!r} does not exist", hint="check the path")
        return convert_keras_layers(s, settings, recipe, _dataset(s["calibration"], "calibration data", False),
                                    _positive_int(s["calibration_samples"], "--calibration-samples"), start)

    # -- every check that needs no TensorFlow, before any work ---------------------------------------
    if isinstance(s["model"], (str, os.PathLike)) and not Path(s["model"]).exists():
        from .load import ALLOWED

        raise ModelNotFoundError(f"model path {str(s['model'])!r} does not exist",
                                 hint=f"check the path; allowed: {ALLOWED}")
    from .cluster import check_clusters
    from .policy import LayerPolicy
    from .prune import check_spec
    from .quantize import check_mode

    out_path = Path(s["output"])
    recipe_out = out_path.with_name(out_path.stem + ".recipe.yaml")
    # re-running the recipe a convert wrote is its purpose: that one file is read, and then left as it was
    rerun = recipe is not None and isinstance(recipe, (str, os.PathLike)) and Path(recipe).resolve() == \
        recipe_out.resolve()
    outs = check_outputs({"output": out_path, "report": s["report"] or None,
                          "recipe written next to the output": None if rerun else recipe_out},
                         {"model": s["model"], "recipe": recipe, "calibration data": s["calibration"],
                          "training data": s["train_data"], "evaluation data": s["eval_data"],
                          "teacher": s["teacher"]})
    out_path, report_path = outs["output"], outs.get("report")
    recipe_path = None if rerun else outs["recipe written next to the output"]
    if s["prune"] is None and settings.get("prune_kind") in ("unstructured", "block"):
        raise InvalidArgumentError(f"--prune-kind {settings['prune_kind']} needs a target sparsity",
                                   hint="add --prune SPARSITY, e.g. --prune 0.75")
    spec = check_spec(s["prune"], s["prune_kind"], s["block"]) if (
        s["prune"] is not None or s["prune_kind"] == "2:4") else None
    n_clusters = check_clusters(s["cluster"]) if s["cluster"] is not None else None
    qat_on = bool(s["qat"])
    epochs_n = _positive_int(s["epochs"], "--epochs")
    batch_n = _positive_int(s["batch_size"], "--batch-size")
    samples_n = _positive_int(s["calibration_samples"], "--calibration-samples")
    if samples_n < MIN_CALIBRATION_SAMPLES:  # a range set by a handful of inputs is set by their outliers
        raise InvalidArgumentError(
            f"--calibration-samples {samples_n} is below {MIN_CALIBRATION_SAMPLES}: int8 activation ranges taken from "
            "so few inputs clip typical ones", hint="use 100-500 typical inputs (the default is 100)")
    if s["bias_correction"] and (qat_on or s["quantize"] not in ("int8", "int16x8")):
        raise InvalidArgumentError(
            f"--bias-correction corrects the bias int8 weight rounding adds after training; it does not apply to "
            f"{'--qat (QAT learns the biases)' if qat_on else '--quantize ' + str(s['quantize'])}",
            hint="use it with post-training --quantize int8 (or int16x8), without --qat")
    if s["bias_correction"] and s["calibration"] is None:
        raise InvalidArgumentError("--bias-correction measures each layer's mean shift on calibration inputs, and "
                                   "none were given", hint="pass --calibration DATA")
    io_eff = check_mode(s["quantize"], s["io"], qat_on, s["calibration"] is not None)
    if qat_on and spec is not None and n_clusters is not None:
        # measured: TFMOT 0.8.1's sparsity-preserving CQAT lets pruned weights regrow (50% -> 0-31% per layer)
        raise InvalidArgumentError(
            "--prune, --cluster and --qat together: TFMOT's cluster-preserving QAT does not keep the pruned zeros",
            hint="drop --qat (post-training int8 keeps both sparsity and clusters), or drop --cluster or --prune",
        )
    if qat_on and s["train_data"] is None:
        raise InvalidArgumentError("--qat needs training data", hint="pass --train-data DATA (with labels, or "
                                   "without them and --distill)")
    policy = LayerPolicy(only=_names(s["prune_layers"]), keep_dense=_names(s["keep_dense"]))

    train = _dataset(s["train_data"], "training data", need_labels=not s["distill"])
    from .distill_step import check_plan, fine_tuning_steps

    s["_distill"] = check_plan(s, settings, train, fine_tuning_steps(spec, n_clusters, qat_on))
    if s["_distill"] is not None:  # the recipe records the values used
        s.update(temperature=s["_distill"].temperature, distill_alpha=s["_distill"].alpha)
    evald = _dataset(s["eval_data"], "evaluation data", need_labels=False)
    cal = _dataset(s["calibration"], "calibration data", need_labels=False)

    args = (s, spec, n_clusters, qat_on, io_eff, epochs_n, batch_n, samples_n, policy, train, evald, cal, out_path)
    if isolated.in_process_forced():
        rep, tfl, used, msgs = run_steps(args, start)
    elif isinstance(s["model"], (str, os.PathLike)):
        # TensorFlow can crash the process (a GRU calibration segfaults): a child takes the crash, we report it
        rep, tfl, used, msgs = isolated.run(args, elapsed=time.perf_counter() - start, model=repr(str(s["model"])))
    else:
        rep, tfl, used, msgs = _run_in_memory(args, start)
    rep["warnings"] = msgs
    recipe_text = recipes.dump(used)  # serialize everything before writing anything
    report_text = json.dumps(rep, indent=2, default=_json_default) + "\n"
    write_bytes(out_path, tfl)
    if recipe_path is not None:
        write_text(recipe_path, recipe_text)
    if report_path:
        write_text(report_path, report_text)
    for m in msgs:
        warnings.warn(m, ConvertWarning, stacklevel=2)
    return ConvertResult(out_path, rep, report_path, recipe_path, msgs)


def _run_in_memory(args: tuple, start: float) -> tuple[dict, bytes, dict, list[str]]:
    """An in-memory model in the child, through a saved copy; in this process when it cannot make the trip."""
    from .memory_model import NotReloadable, handed_over, in_process_note, source_name

    s = args[0]
    with handed_over(s["model"]) as handover:
        if isinstance(handover, str):
            reason = handover
        else:
            child_args = ({**s, "model": handover.path, "_memory": handover}, *args[1:])
            try:
                rep, tfl, used, msgs = isolated.run(child_args, elapsed=time.perf_counter() - start,
                                                    model=handover.source)
            except NotReloadable as exc:
                reason = exc.message
            else:
                used = {k: v for k, v in used.items() if k != "_memory"}
                return rep, tfl, {**used, "model": s["model"]}, msgs
    rep, tfl, used, msgs = run_steps(args, start)
    note = in_process_note(source_name(s["model"]), reason)
    return rep, tfl, used, [note, *msgs]


def run_steps(args: tuple, start: float) -> tuple[dict, bytes, dict, list[str]]:
    """The TensorFlow part of convert (also what the child process runs): report, .tflite, settings, warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvertWarning)
        rep, tfl, used = _run(*args, start)
    return rep, tfl, used, [str(w.message) for w in caught if issubclass(w.category, ConvertWarning)]


def _run(s, spec, n_clusters, qat_on, io_eff, epochs_n, batch_n, samples_n, policy, train, evald, cal,
         out_path, start) -> tuple[dict, bytes, dict]:
    from . import report as reports
    from .load import count_params, load_model, working_copy
    from .quantize import check_calibration, qat, to_tflite
    from .stages import stage

    stage("loading the model")
    if s.get("_memory") is not None:  # in the child: the caller's in-memory model, saved for it
        from .memory_model import reload

        loaded = reload(s["_memory"])
    else:
        loaded = load_model(s["model"])
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
            if len(cal.x) < samples_n and s.get("_samples_explicit"):
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
                                             ("QAT", qat_on), ("--equalize", bool(s["equalize"])),
                                             ("--bias-correction", bool(s["bias_correction"]))) if on]
        if tfmot_steps:  # TFMOT trains in place: work on a copy so the caller's model is never modified
            work = working_copy(loaded.require_keras(" and ".join(tfmot_steps)))
        if s["equalize"]:
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
        if s.get("_distill") is not None:
            from .distill_step import Distiller, fine_tuning_steps

            stage("teacher outputs for distillation")
            distiller = Distiller(s["_distill"], work, km, train_xy)
            train_xy, fit_loss = distiller.train_xy, distiller.loss
            if s["_distill"].alpha_ignored is not None:
                from .warn import warn

                warn(f"--distill-alpha {s['_distill'].alpha_ignored:g} ignored: the training data has no labels, so "
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
        if s["bias_correction"]:
            from .bias_correction import correct_biases

            steps["bias_correction"] = correct_biases(work, cal_x, per_channel=bool(s["per_channel"]))
        final = work if (spec is not None or n_clusters is not None or s["equalize"]
                         or s["bias_correction"]) else None
        to_convert = work
        if qat_on:
            stage("quantization-aware training")
            to_convert = qat(work, train_xy, epochs=epochs_n, batch_size=batch_n,
                             preserve_sparsity=spec is not None, preserve_clusters=n_clusters is not None,
                             loss=fit_loss)
            steps["qat"] = {"kind": ("cluster-preserving" if n_clusters else
                                     "pruning-preserving" if spec else "standard"), "epochs": epochs_n}
        if distiller is not None:
            steps["distill"] = distiller.report(to_convert, fine_tuning_steps(spec, n_clusters, qat_on))
        stage(f"{'calibration and ' if cal_x is not None else ''}TFLite conversion (--quantize {s['quantize']})")
        if to_convert is not None:
            tfl = to_tflite(to_convert, quantize=s["quantize"], io=io_eff, calibration=cal_x,
                            per_channel=bool(s["per_channel"]), qat=qat_on)
        else:
            tfl = to_tflite(saved_model_dir=loaded.saved_model_dir, quantize=s["quantize"], io=io_eff,
                            calibration=cal_x, per_channel=bool(s["per_channel"]))
        from edgelift.device.runtime.prechecks import check_model

        check_model(tfl, "the converted model")  # a node TFLite's kernels would abort on: fail here, not on the Pi
        steps["quantize"] = {"mode": s["quantize"], "io": io_eff, "per_channel": bool(s["per_channel"]),
                             "calibration": cal.path if cal else None,
                             "calibration_samples": 0 if cal_x is None else len(cal_x)}
        if "prune" in steps:
            _check_emitted_sparsity(steps["prune"], tfl)

        accuracy = None
        if evald is not None:
            stage("accuracy evaluation")
            accuracy = _accuracy(reports, km, final, tfl, eval_x, evald)
        rep = reports.build(loaded=loaded, final_keras=final if final is not None else km, tflite=tfl, steps=steps,
                            output=str(out_path),
                            accuracy=accuracy, warnings=[], seconds=time.perf_counter() - start, params=params,
                            target=s["target"])
        from .sparse_report import dense_warning

        dense = dense_warning(rep["sparse_prediction"], spec.kind if spec else None, spec.block if spec else None)
        if dense:
            from .warn import warn

            warn(dense)
    finally:
        loaded.close()
    settings = {**s, "output": str(out_path), "io": io_eff}
    if spec is None:  # no pruning: the kind and block defaults alone would make the recipe refuse to rerun
        settings.update(prune_kind=None, block=None)
    return rep, tfl, settings


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
