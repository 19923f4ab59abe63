"""`ConvertOptions`: every setting of `edgelift convert`, checked once when it is built, before any work.

The CLI, a recipe (merged with the flags given, which win) and `edgelift.convert(**kwargs)` all build one
through `ConvertOptions.build`, so the same bad value gets the same line from each: types first (a quoted
"false" is not false, NaN is not a number), then each value alone (ranges, choices, paths: the model exists,
every output is writable and none is an input or another output), then the combinations the route allows
(a precision search refuses pruning, a .tflite input refuses training, --distill needs training data ...).

A field left None takes its default; `given` keeps what was set explicitly (a flag or a recipe key), which
some checks need ("--prune-kind block needs --prune" only when the kind was asked for). The value checks
themselves live beside the step they guard (`prune.check_spec`, `cluster.check_clusters`, `quantize.check_mode`,
...) so a step's unit test and this boundary share one message.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgelift.errors import InvalidArgumentError, InvalidModelError, ModelNotFoundError

from . import recipe as recipes

DEFAULTS: dict[str, Any] = {
    "prune_kind": "unstructured", "block": "1x4", "quantize": "int8", "per_channel": True,
    "calibration_samples": 100, "qat": False, "epochs": 2, "batch_size": 32, "equalize": False,
    "bias_correction": False, "distill": False, "search_cost": False,
}
MIN_CALIBRATION_SAMPLES = 10


def positive_int(value, flag: str) -> int:
    """A whole number >= 1 (bools and fractions refused); the message names the flag and the value."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        v = 0
    else:
        try:
            v = int(str(value).strip())
        except ValueError:
            v = 0
    if v < 1:
        raise InvalidArgumentError(f"{flag} {value} must be a whole number >= 1", hint=f"e.g. {flag} 2")
    return v


def names(value) -> list[str] | None:
    """'a, b' or ['a', 'b'] -> ['a', 'b']; 'none' -> [] (keep nothing dense)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    out = [str(v).strip() for v in value if str(v).strip()]
    return [] if out in (["none"], ["None"]) else out


@dataclass(frozen=True)
class ConvertOptions:
    """The keyword arguments of `edgelift.convert` (see its docstring); None = the default. After construction
    every field holds the value used (defaults filled in, `io` the effective one, `calibration_samples` an int),
    and `spec`, `n_clusters`, `budget`, `route`, `output_path`, `report_path`, `recipe_path` what they imply."""

    model: Any = None
    output: str | os.PathLike | None = None
    recipe: str | os.PathLike | None = None
    prune: float | str | None = None
    prune_kind: str | None = None
    block: str | tuple[int, int] | None = None
    prune_layers: str | list[str] | None = None
    keep_dense: str | list[str] | None = None
    cluster: int | None = None
    quantize: str | None = None
    io: str | None = None
    per_channel: bool | None = None
    calibration: Any = None
    calibration_samples: int | None = None
    qat: bool | None = None
    train_data: Any = None
    epochs: int | None = None
    batch_size: int | None = None
    eval_data: Any = None
    report: str | os.PathLike | None = None
    layers: dict[str, str] | None = None
    equalize: bool | None = None
    bias_correction: bool | None = None
    target: str | None = None
    distill: bool | None = None
    teacher: str | os.PathLike | None = None
    temperature: float | None = None
    distill_alpha: float | None = None
    max_accuracy_drop: float | str | None = None
    max_error: float | str | None = None
    search_budget: float | str | None = None
    search_cost: bool | None = None
    # what the values imply, set by the checks below
    given: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    route: str = field(default="keras", init=False, compare=False)
    spec: Any = field(default=None, init=False, compare=False, repr=False)  # prune.PruneSpec
    n_clusters: int | None = field(default=None, init=False, compare=False, repr=False)
    budget: Any = field(default=None, init=False, compare=False, repr=False)  # precision_search.Budget
    layer_modes: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)
    layer_sparsity: dict[str, float] = field(default_factory=dict, init=False, compare=False, repr=False)
    output_path: Path | None = field(default=None, init=False, compare=False, repr=False)
    report_path: Path | None = field(default=None, init=False, compare=False, repr=False)
    recipe_path: Path | None = field(default=None, init=False, compare=False, repr=False)

    @classmethod
    def build(cls, model=None, output=None, *, recipe=None, **given) -> ConvertOptions:
        """The options `convert` runs with: the recipe's settings (types checked, paths relative to it), then
        every value given here (not None) over them."""
        recipes.check_types(given, "convert")
        settings = recipes.merge(recipes.load_recipe(recipe) if recipe is not None else {},
                                 {"model": model, "output": output, **given})
        return cls(recipe=recipe, **settings)

    # -- the checks ------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        given = {f.name: getattr(self, f.name) for f in fields(self)
                 if f.init and f.name != "recipe" and getattr(self, f.name) is not None}
        recipes.check_types(given, "convert")  # a recipe's values were checked (naming the file) when read
        self._put("given", given)
        for name, value in DEFAULTS.items():
            if getattr(self, name) is None:
                self._put(name, value)
        self._check_values()
        self._put("route", self._route())
        self._check_paths()
        {"search": self._check_search, "tflite": self._check_tflite, "keras_layers": self._check_keras_layers,
         "keras": self._check_keras}[self.route]()

    def _put(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check_values(self) -> None:
        """Each value alone: ranges, choices, finiteness."""
        from .precision_search import check_budget
        from .prune import check_kind, parse_block
        from .target import check_target, default_block

        self._put("target", check_target(self.target))
        if self.target and "block" not in self.given:  # the block the target's sparse kernel skips whole
            self._put("block", default_block(self.target))
        if self.model is None:
            raise InvalidArgumentError("no model given", hint="pass MODEL (a .keras, .h5 or SavedModel directory)")
        if self.output is None:
            raise InvalidArgumentError("no output path given", hint="pass -o OUT.tflite")
        self._put("budget", check_budget(self.max_accuracy_drop, self.max_error, self.search_budget,
                                         self.search_cost))
        samples = positive_int(self.calibration_samples, "--calibration-samples")
        if samples < MIN_CALIBRATION_SAMPLES:  # a range set by a handful of inputs is set by their outliers
            raise InvalidArgumentError(
                f"--calibration-samples {samples} is below {MIN_CALIBRATION_SAMPLES}: int8 activation ranges taken "
                "from so few inputs clip typical ones", hint="use 100-500 typical inputs (the default is 100)")
        self._put("calibration_samples", samples)
        self._put("epochs", positive_int(self.epochs, "--epochs"))
        self._put("batch_size", positive_int(self.batch_size, "--batch-size"))
        if "prune_kind" in self.given:
            check_kind(self.prune_kind)
        if "block" in self.given:
            parse_block(self.block)
        if self.cluster is not None:
            from .cluster import check_clusters

            self._put("n_clusters", check_clusters(self.cluster))
        if self.layers is not None:
            from .tflite_quantize import check_layers

            self._put("layer_modes", check_layers(self.layers))
        from .distill import check_alpha, check_temperature

        if self.temperature is not None:
            check_temperature(self.temperature)
        if self.distill_alpha is not None:
            check_alpha(self.distill_alpha)
        from .layer_sparsity import parse

        selected, own = parse(self.prune_layers)
        self._put("prune_layers", selected)
        self._put("layer_sparsity", own)
        self._put("keep_dense", names(self.keep_dense))

    def _route(self) -> str:
        from .tflite_convert import is_tflite_path

        if self.budget is not None:
            return "search"
        if is_tflite_path(self.model):  # a float .tflite (path or bytes): ai-edge-quantizer, no TensorFlow
            return "tflite"
        return "keras_layers" if "layers" in self.given else "keras"

    def _check_paths(self) -> None:
        """The model, teacher and data paths exist; every output can be written and is neither an input nor
        another output."""
        from edgelift.atomic import check_outputs

        if isinstance(self.model, (str, os.PathLike)):
            p = Path(self.model)
            if not p.exists():
                from .load import ALLOWED

                raise ModelNotFoundError(f"model path {str(p)!r} does not exist",
                                         hint=f"check the path; allowed: {ALLOWED}")
            if self.route in ("tflite", "search") and p.suffix.lower() == ".tflite" and p.is_dir():
                raise InvalidModelError(f"{str(p)!r} is a directory named like a .tflite", hint="pass the .tflite file")
        from edgelift.data import check_data_path

        for data in (self.calibration, self.train_data, self.eval_data):
            if isinstance(data, (str, os.PathLike)):
                check_data_path(data)
        if self.teacher is not None and not Path(self.teacher).exists():
            raise ModelNotFoundError(f"--teacher {str(self.teacher)!r} does not exist",
                                     hint="pass a .keras, .h5 or SavedModel path, or drop --teacher to use the "
                                          "input model")
        out = Path(self.output)
        recipe_out = out.with_name(out.stem + ".recipe.yaml")
        # re-running the recipe a convert wrote is its purpose: that one file is read, and then left as it was
        rerun = isinstance(self.recipe, (str, os.PathLike)) and Path(self.recipe).resolve() == recipe_out.resolve()
        outs = check_outputs({"output": out, "report": self.report or None,
                              "recipe written next to the output": None if rerun else recipe_out},
                             {"model": self.model, "recipe": self.recipe, "calibration data": self.calibration,
                              "training data": self.train_data, "evaluation data": self.eval_data,
                              "teacher": self.teacher})
        self._put("output_path", outs["output"])
        self._put("report_path", outs.get("report"))
        self._put("recipe_path", outs.get("recipe written next to the output"))

    def _set(self, key: str) -> bool:
        """Whether `key` was given with a value that turns something on (False and None are 'not asked')."""
        return self.given.get(key) not in (None, False)

    def _check_search(self) -> None:
        from .quantize import check_mode
        from .search_convert import REFUSED, flag

        for key, why in REFUSED.items():
            if self._set(key):
                raise InvalidArgumentError(f"{flag(key)} cannot be combined with a precision search ({why})",
                                           hint=f"drop {flag(key)}, or drop --max-accuracy-drop / --max-error")
        from .tflite_convert import is_tflite_path

        if is_tflite_path(self.model):
            from .keras_layers import PRUNING_KEYS

            for key in PRUNING_KEYS:
                if key not in ("epochs", "batch_size") and self._set(key):
                    raise InvalidArgumentError(f"{flag(key)} does not apply to a .tflite input (pruning fine-tunes "
                                               "Keras weights)", hint="search the Keras model the .tflite came "
                                                                      f"from, or drop {flag(key)}")
        else:
            self._check_pruning()
            self._check_distill()  # --distill fine-tunes --prune's pruned models
        if self.spec is None:
            for key, why in (("train_data", "it trains only to fine-tune --prune"),
                             ("target", "it shapes --prune's blocks for a board")):
                if self._set(key):
                    raise InvalidArgumentError(f"{flag(key)} without --prune in a precision search ({why})",
                                               hint=f"add --prune S to search per-layer sparsity too, or drop "
                                                    f"{flag(key)}")
        if self.quantize != "int8":
            raise InvalidArgumentError(f"--quantize {self.quantize} with a precision search, which starts from "
                                       "int8 and moves layers to int16x8 or float", hint="drop --quantize")
        if self.calibration is None:
            raise InvalidArgumentError("a precision search quantizes to int8, which needs calibration data, and "
                                       "none was given", hint="pass --calibration DATA (a few hundred typical inputs)")
        if self.budget.kind == "accuracy_drop" and self.eval_data is None:
            raise InvalidArgumentError("--max-accuracy-drop measures accuracy on labelled --eval-data, and none was "
                                       "given", hint="pass --eval-data DATA with labels, or use --max-error E "
                                                     "(no labels)")
        if is_tflite_path(self.model) and self.equalize:
            raise InvalidArgumentError("--equalize does not apply to a .tflite input (it rescales Keras weights)",
                                       hint="search the Keras model the .tflite came from, or drop --equalize")
        self._put("io", check_mode("int8", self.io, False, True))

    def _check_tflite(self, given: dict[str, Any] | None = None) -> None:
        """A float .tflite: Keras-only settings refused by name; mode, io and calibration must fit together."""
        from .quantize import check_mode
        from .tflite_convert import check_settings

        check_settings(self.given if given is None else given, bool(self.layer_modes))
        mode = self.quantize
        if self.needs_calibration and self.calibration is None:
            why = (f"--quantize {mode}" if mode in ("int8", "int16x8") else "a recipe `layers:` entry for int8/int16x8")
            raise InvalidArgumentError(f"{why} needs calibration data to set activation ranges, and none was given",
                                       hint="pass --calibration DATA (a few hundred typical inputs, .npz x / .npy / "
                                            "image folder), or use --quantize dynamic or float16")
        self._put("io", check_mode(mode, self.io, False, True))

    def _check_keras_layers(self) -> None:
        from .keras_layers import NOT_WITH_LAYERS, PRUNING_KEYS

        for key in NOT_WITH_LAYERS:
            if self._set(key):
                raise InvalidArgumentError(
                    f"{key} with layers: (per-op quantize modes) on a Keras model: that route quantizes a float "
                    ".tflite of the model with ai-edge-quantizer, which neither trains nor measures accuracy",
                    hint="drop layers: for clustering / QAT / bias correction; check accuracy with edgelift "
                         "validate OUT.tflite -r MODEL --data DATA")
        self._check_pruning()
        self._check_distill()
        if self.spec is None:
            for key in ("train_data", "target"):
                if self._set(key):
                    raise InvalidArgumentError(f"{key} with layers: and no --prune: on this route only pruning "
                                               "trains or is shaped for a board", hint=f"drop {key}, or add --prune S")
        self._check_tflite({k: v for k, v in self.given.items() if k not in ("model", "equalize", *PRUNING_KEYS)})

    def _check_pruning(self) -> None:
        from .prune import check_spec

        if self.prune is None and self.given.get("prune_kind") in ("unstructured", "block"):
            raise InvalidArgumentError(f"--prune-kind {self.given['prune_kind']} needs a target sparsity",
                                       hint="add --prune SPARSITY, e.g. --prune 0.75")
        if self.prune is not None or self.prune_kind == "2:4":
            self._put("spec", check_spec(self.prune, self.prune_kind, self.block, self.layer_sparsity))
        elif self.layer_sparsity:
            name, s = next(iter(self.layer_sparsity.items()))
            raise InvalidArgumentError(f"--prune-layers {name}={s:g} sets one layer's sparsity, and no --prune was "
                                       "given for the rest", hint="add --prune SPARSITY, e.g. --prune 0.75")

    def _check_keras(self) -> None:
        from .quantize import check_mode

        self._check_pruning()
        qat = self.qat
        if self.bias_correction and (qat or self.quantize not in ("int8", "int16x8")):
            raise InvalidArgumentError(
                f"--bias-correction corrects the bias int8 weight rounding adds after training; it does not apply to "
                f"{'--qat (QAT learns the biases)' if qat else '--quantize ' + str(self.quantize)}",
                hint="use it with post-training --quantize int8 (or int16x8), without --qat")
        if self.bias_correction and self.calibration is None:
            raise InvalidArgumentError("--bias-correction measures each layer's mean shift on calibration inputs, "
                                       "and none were given", hint="pass --calibration DATA")
        self._put("io", check_mode(self.quantize, self.io, qat, self.calibration is not None))
        if qat and self.spec is not None and self.n_clusters is not None:
            # measured: TFMOT 0.8.1's sparsity-preserving CQAT lets pruned weights regrow (50% -> 0-31% per layer)
            raise InvalidArgumentError(
                "--prune, --cluster and --qat together: TFMOT's cluster-preserving QAT does not keep the pruned zeros",
                hint="drop --qat (post-training int8 keeps both sparsity and clusters), or drop --cluster or --prune")
        if qat and self.train_data is None:
            raise InvalidArgumentError("--qat needs training data", hint="pass --train-data DATA (with labels, or "
                                       "without them and --distill)")
        self._check_distill()

    def _check_distill(self) -> None:
        from .distill_step import check_options

        temperature, alpha = check_options(self)
        if self.distill:  # the recipe records the values used
            self._put("temperature", temperature)
            self._put("distill_alpha", alpha)

    # -- what the values imply ---------------------------------------------------------------------------
    @property
    def needs_calibration(self) -> bool:
        return self.quantize in ("int8", "int16x8") or any(v in ("int8", "int16x8") for v in self.layer_modes.values())

    @property
    def fine_tuning(self) -> list[str]:
        """The steps that fine-tune (so --distill applies to them)."""
        return [flag for flag, on in (("--prune", self.spec is not None and self.spec.sparsity > 0),
                                      ("--cluster", self.n_clusters is not None), ("--qat", bool(self.qat))) if on]

    def settings(self) -> dict[str, Any]:
        """The values used, by recipe key (what `recipe.dump` writes)."""
        from .layer_sparsity import as_setting

        out = {k: getattr(self, k) for k in recipes.KEYS}
        out["prune_layers"] = as_setting(self.prune_layers, self.layer_sparsity)
        if self.spec is None:  # no pruning: the kind and block defaults alone would make the recipe refuse to rerun
            out.update(prune_kind=None, block=None)
        return out

    def derived(self, **changes) -> ConvertOptions:
        """A copy with values the pipeline derived from checked ones (a search's winner, a float .tflite made
        from the Keras model): not checked again, since they did not come from the user."""
        new = copy.copy(self)
        for name, value in changes.items():
            if not hasattr(new, name):
                raise AttributeError(name)
            object.__setattr__(new, name, value)
        return new
