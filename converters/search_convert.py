"""`edgelift convert --max-accuracy-drop P | --max-error E`: the precision search wired into convert.

Every check runs before any work: the budget, what it needs (labelled eval data for an accuracy drop), the
settings a search cannot combine with, the output paths. Then the float model(s) are made once (a Keras model:
plain and equalized float .tflite, in TensorFlow's child process; a float .tflite: as given), the search runs
(with --prune, the sparsity search of `sparsity_convert`, which runs a precision search on each pruned model
within budget), and the winner is written through the same code a `--recipe` replay runs (`keras_layers` /
`convert_tflite`), with its recipe. No variant within budget, or Ctrl-C: the table of what was tried, nothing
written, exit 1 / 130.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from edgelift.errors import DataError, ThresholdError

from .precision_search import Evaluator, Source, describe_score, search

# settings a search does not combine with -> why (the search chooses per-op modes over an int8 default);
# ConvertOptions refuses them before any work
REFUSED = {
    "cluster": "it needs training, which the search runs only to fine-tune --prune",
    "qat": "QAT trains one int8 model; the search compares post-training variants",
    "bias_correction": "not among the search's candidates yet",
    "layers": "the search chooses the per-layer modes itself",
}


def _missed(budget, result, sparsity) -> str:
    """The line for a search that found no variant within budget: what was tried and the best found."""
    tried = f"{len(result.variants)} tried" if result is not None else "none quantized"
    if sparsity is not None:
        tried = f"{len(sparsity.pruned)} pruned variant(s), {tried} in the last precision search"
    if result is not None:
        best = result.best
        found = f"#{best.number} {best.change}, {describe_score(best, budget)}"
    else:
        p = min(sparsity.pruned, key=lambda q: q.drop)
        alone = (f"accuracy {100 * p.score:.2f}% (drop {100 * p.drop:+.2f} points)" if budget.kind == "accuracy_drop"
                 else f"max error {p.score:.4g}")
        found = f"P{p.number} {p.change}, its float model alone {alone}"
    stopped = (result.stopped if sparsity is None else sparsity.stopped)
    return (f"no variant met the budget ({budget.describe()}) in {tried} "
            f"({'time ran out' if stopped == 'time' else 'no move left to try'}); best found: {found}; nothing "
            "was written")


def flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _source(content: bytes, equalized: bool, cal, samples_n: int, per_channel: bool, where: str) -> Source:
    from edgelift.tflite_model import TFLiteModel

    from . import tflite_prep
    from .tflite_convert import _calibration, _signature

    prepared, _ = tflite_prep.prepare(content, where)
    key, sig_inputs = _signature(prepared)
    return Source(equalized, prepared, key, _calibration(cal, TFLiteModel(prepared), sig_inputs, samples_n),
                  per_channel)


def _eval_x(ds, source: Source) -> np.ndarray:
    from edgelift.tflite_model import TFLiteModel

    m = TFLiteModel(source.prepared)
    want = tuple(m.tensors[m.inputs[0]].shape[1:])
    x = ds.x
    if x.dtype.kind not in "fiu":
        raise DataError(f"evaluation data {ds.path!r} has dtype {x.dtype}; numeric inputs are required",
                        hint="save the model's float32 inputs, preprocessed as for training")
    if tuple(x.shape[1:]) != want:
        raise DataError(f"evaluation data {ds.path!r} has samples of shape {tuple(x.shape[1:])}; the model input "
                        f"expects {want}", hint="reshape or resize the data to the model's input shape")
    return np.asarray(x, np.float32)


def search_convert(opts, start: float):
    """The search for checked ConvertOptions (route "search"): read the data, search, write the winner."""
    from .pipeline import _dataset
    from .report import tflite_predict
    from .search_report import Progress, as_dict, table
    from .tflite_convert import _refuse_unusable, convert_tflite, is_tflite_path

    budget, io_eff, samples_n = opts.budget, opts.io, opts.calibration_samples
    cal = _dataset(opts.calibration, "calibration data", False)
    evald = _dataset(opts.eval_data, "evaluation data", False)
    if budget.kind == "accuracy_drop" and evald.y is None:
        raise DataError(f"--max-accuracy-drop needs labels, and evaluation data {evald.path!r} has none",
                        hint="save it as .npz with arrays x and y (or an image folder per class), or use "
                             "--max-error E, which compares with the float model and needs no labels")

    tflite_in = is_tflite_path(opts.model)
    pruning = opts.spec is not None
    if tflite_in:  # a float .tflite: its candidates are per-op modes only (equalization rescales Keras weights)
        content = bytes(opts.model) if isinstance(opts.model, (bytes, bytearray, memoryview)) else \
            Path(opts.model).read_bytes()
        _refuse_unusable(content, repr(str(opts.model)))
        floats = {False: content}
    else:
        from .keras_layers import float_tflite

        if pruning:  # the reference only: each pruned model is a candidate of its own (sparsity_convert)
            floats = {False: float_tflite(opts.model, False)}
        else:
            with warnings.catch_warnings():  # "no pair to equalize" is answered below: then one model, not two
                warnings.simplefilter("ignore")
                floats = {True: float_tflite(opts.model, True)}
            if not opts.equalize:
                floats[False] = float_tflite(opts.model, False)
                if floats[False] == floats[True]:  # no layer pair to equalize: one model, not two
                    del floats[True]
    sources = {eq: _source(c, eq, cal, samples_n, bool(opts.per_channel), "the float model")
               for eq, c in floats.items()}
    ref_src = sources[False] if False in sources else sources[True]
    x = _eval_x(evald if evald is not None else cal, ref_src)
    y = None
    reference = tflite_predict(ref_src.prepared, x).astype(np.float64)
    if budget.kind == "accuracy_drop":
        from edgelift.data import check_labels

        y = np.asarray(evald.y)
        if reference.ndim != 2 or reference.shape[1] < 2:
            raise DataError(f"--max-accuracy-drop needs a classifier; the model's output has shape "
                            f"{tuple(reference.shape[1:])}", hint="use --max-error E for other outputs")
        check_labels(y, int(reference.shape[1]), f"evaluation data {evald.path!r}")

    from .tflite_io import float_io

    evaluate = Evaluator(budget, x, y, reference)
    if io_eff == "float32":  # score the bytes convert_tflite will emit
        evaluate.finish = float_io
    progress = Progress(budget)
    diagnose_x = np.asarray(cal.x[:32], np.float32)
    sparsity = None
    try:
        if pruning:
            from .sparsity_convert import search_pruned

            sparsity, result = search_pruned(opts, evaluate, diagnose_x, progress,
                                             lambda content: _source(content, bool(opts.equalize), cal, samples_n,
                                                                     bool(opts.per_channel), "the pruned model"))
        else:
            result = search(sources, evaluate, diagnose_x, start_equalized=bool(opts.equalize), progress=progress)
    finally:
        progress.end()
    win = result.winner if result is not None else None
    cost = None
    if budget.meter and win is not None:
        from .search_cost import costs

        print("search: metering the all-int8 start and the chosen variant on the emulated Pi 4 (~40 s each)",
              file=sys.stderr)
        cost = costs(result)
    shown = table(result, cost) if result is not None else ""
    if sparsity is not None:
        from .search_report import sparsity_table

        shown = sparsity_table(sparsity, budget, evaluate.reference_score) + ("\n" + shown if shown else "")
    if win is None:
        print(shown, file=sys.stderr)
        raise ThresholdError(_missed(budget, result, sparsity),
                             hint="loosen the budget, or give the search more time with --search-budget MINUTES")

    extra = {"search": {**as_dict(result), "table": shown}}
    layers = {".*": "int8", **win.layers}  # the default first: layers: alone selects the per-op route on replay
    paths = {k: str(Path(getattr(opts, k)).resolve()) for k in ("model", "calibration", "train_data", "teacher")
             if isinstance(getattr(opts, k), (str, os.PathLike))}  # the recipe replays from anywhere
    won = opts.derived(layers=layers, layer_modes=layers, equalize=win.equalized, quantize="int8", eval_data=None,
                       **paths)
    float_model = floats.get(win.equalized)
    if sparsity is not None:  # the recipe prunes each layer as the winner did
        import dataclasses

        chosen = sparsity.winner
        extra["search"]["sparsity"] = sparsity.as_dict()
        own = dict(chosen.sparsity)
        won = won.derived(prune_layers=list(own), layer_sparsity=own,
                          spec=dataclasses.replace(opts.spec, per_layer=own))
        float_model = chosen.float_tflite
    if tflite_in:
        res = convert_tflite(won, cal, start, report_extra=extra)
    else:
        from .keras_layers import convert_keras_layers

        res = convert_keras_layers(won, cal, start, float_model=float_model, report_extra=extra)
    res.report["search"]["written_equals_measured"] = Path(res.output).read_bytes() == win.tflite
    return res
