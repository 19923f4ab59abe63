"""Recipes: the whole pipeline in one YAML or TOML file; flags override it; the recipe used is saved.

Keys are the keyword arguments of `edgelift.convert` (flat), e.g.

    prune: 0.75
    prune_kind: block
    target: rpi4      # block defaults to the Pi 4 sparse kernel's; the report predicts its sparse layers
    quantize: int8
    calibration: data/calib.npz
    train_data: data/train.npz
    epochs: 2

For a float .tflite, `layers` maps a regex over op output tensor names to a mode of its own
(int8, int16x8, dynamic, float16, or none to keep those ops float):

    model: face_detector.tflite
    quantize: int8
    layers: {"regressors": int16x8}

Relative paths in a recipe are resolved against the recipe's folder.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import yaml

from edgelift.errors import InvalidArgumentError, InvalidModelError, ModelNotFoundError

# key -> is it a path (resolved relative to the recipe file)
KEYS: dict[str, bool] = {
    "model": True, "output": True, "prune": False, "prune_kind": False, "block": False, "target": False,
    "prune_layers": False, "keep_dense": False, "cluster": False, "quantize": False, "io": False, "per_channel": False,
    "calibration": True, "calibration_samples": False, "qat": False, "train_data": True, "epochs": False,
    "batch_size": False, "eval_data": True, "report": True, "layers": False, "equalize": False,
    "bias_correction": False,
    "distill": False, "teacher": True, "temperature": False, "distill_alpha": False,
}


# key -> (what it must be, test). A recipe's values and the API's keyword arguments pass the same test, so
# a quoted "false" never reads as true and a wrong type is named instead of failing deep inside a step.
_PATH = ("a path (string)", lambda v: isinstance(v, (str, os.PathLike)))
_INT = ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool))
_BOOL = ("true or false (unquoted)", lambda v: isinstance(v, bool))
_STR = ("a string", lambda v: isinstance(v, str))
_NAMES = ("a layer name or a list of names", lambda v: isinstance(v, str) or (
    isinstance(v, (list, tuple)) and all(isinstance(e, str) for e in v)))
_SPARSITIES = ("a layer name, a list of names (name=sparsity gives one its own) or a mapping name -> sparsity",
               lambda v: _NAMES[1](v) or (isinstance(v, dict) and all(
                   isinstance(k, str) and (e is None or (isinstance(e, (int, float)) and not isinstance(e, bool)))
                   for k, e in v.items())))
_NUMBER_OR_STR = ("a number or a string such as '2:4'", lambda v: isinstance(v, (int, float, str))
                  and not isinstance(v, bool))
_NUMBER = ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
TYPES: dict[str, tuple[str, Any]] = {
    "output": _PATH, "prune": _NUMBER_OR_STR, "prune_kind": _STR, "block": _STR, "prune_layers": _SPARSITIES,
    "keep_dense": _NAMES, "cluster": _INT, "quantize": _STR, "io": _STR, "per_channel": _BOOL,
    "calibration_samples": _INT, "qat": _BOOL, "epochs": _INT, "batch_size": _INT, "report": _PATH,
    "layers": ("a mapping of op-name regex -> quantize mode", lambda v: isinstance(v, dict)),
    "equalize": _BOOL, "bias_correction": _BOOL, "target": _STR,
    "distill": _BOOL, "teacher": _PATH, "temperature": _NUMBER, "distill_alpha": _NUMBER,
    # the precision search's settings: API keywords and flags only (a search writes a recipe, it is not in one)
    "max_accuracy_drop": ("a number or a percentage such as '0.5%'", _NUMBER_OR_STR[1]),
    "max_error": ("a number such as 0.05", _NUMBER_OR_STR[1]),
    "search_budget": ("a number of minutes", _NUMBER_OR_STR[1]),
    "search_cost": _BOOL,
}


def check_types(settings: dict[str, Any], source: str) -> None:
    """Each setting given (not None) has the type its key takes; data and model keys also take arrays/models."""
    for key, value in settings.items():
        if value is None or key not in TYPES:
            continue
        what, ok = TYPES[key]
        if not ok(value):
            shown = f"the string {value!r}" if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
            raise InvalidArgumentError(f"{source}: {key} must be {what}, got {shown}",
                                       hint=f"e.g. {_EXAMPLES.get(key, key + ': ...')}")


_EXAMPLES = {"per_channel": "per_channel: false", "qat": "qat: true", "cluster": "cluster: 16",
             "epochs": "epochs: 2", "batch_size": "batch_size: 32", "calibration_samples": "calibration_samples: 200",
             "prune": "prune: 0.75", "distill": "distill: true", "temperature": "temperature: 4",
             "distill_alpha": "distill_alpha: 0.5"}


def load_recipe(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ModelNotFoundError(f"recipe {str(p)!r} does not exist", hint="check the path of --recipe")
    if not p.is_file():
        raise InvalidArgumentError(f"recipe {str(p)!r} is a folder, not a file",
                                   hint="give the .yaml or .toml file, e.g. --recipe recipe.yaml")
    text = p.read_text(encoding="utf-8", errors="replace")
    import tomllib  # Python 3.11+

    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise InvalidArgumentError(f"recipe {str(p)!r} has suffix {p.suffix or '(none)'!r}; allowed: .yaml, "
                                       ".yml, .toml", hint="rename the file to say its format")
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise InvalidModelError(f"recipe {str(p)!r} is not valid {p.suffix[1:].upper()}: "
                                f"{str(exc).splitlines()[0]}", hint="fix the syntax at the line named") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidArgumentError(f"recipe {str(p)!r} holds a {type(data).__name__}, not a mapping of settings",
                                   hint="write one `key: value` per line")
    settings = normalize(data, base=p.parent)
    check_types(settings, f"recipe {str(p)!r}")
    return settings


def normalize(data: dict[str, Any], base: Path | None = None) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        k = str(key).replace("-", "_")
        if k not in KEYS:
            close = difflib.get_close_matches(k, list(KEYS), n=1)
            raise InvalidArgumentError(
                f"recipe key {key!r} is not a convert setting",
                hint=f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(KEYS)}",
            )
        if KEYS[k] and isinstance(value, str) and base is not None and not os.path.isabs(value):
            value = str(base / value)
        out[k] = value
    return out


def merge(recipe: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Flags given explicitly (not None) win over the recipe."""
    merged = dict(recipe)
    merged.update({k: v for k, v in overrides.items() if v is not None})
    return merged


def dump(settings: dict[str, Any]) -> str:
    clean = {}
    for k in KEYS:
        v = settings.get(k)
        if v is None:
            continue
        if isinstance(v, (tuple, list)) and all(isinstance(e, (str, int, float, bool)) for e in v):
            v = list(v)
        if isinstance(v, os.PathLike):
            v = str(v)
        if isinstance(v, dict) and all(isinstance(a, str) and (b is None or isinstance(b, (str, int, float)))
                                       for a, b in v.items()):
            v = dict(v)  # per-op modes (layers:) or per-layer sparsities (prune_layers:)
        elif not isinstance(v, (str, int, float, bool, list)):
            v = f"<{type(v).__name__}>"  # in-memory model or arrays: not reproducible from the file
        clean[k] = v
    return "# the recipe edgelift used (rerun: edgelift convert --recipe THIS_FILE)\n" + yaml.safe_dump(
        clean, sort_keys=False)
