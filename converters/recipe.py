"""Recipes: the whole pipeline in one YAML or TOML file; flags override it; the recipe used is saved.

Keys are the keyword arguments of `edgelift.convert` (flat), e.g.

    prune: 0.75
    prune_kind: block
    block: 1x4
    quantize: int8
    calibration: data/calib.npz
    train_data: data/train.npz
    epochs: 2

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
    "model": True, "output": True, "prune": False, "prune_kind": False, "block": False, "prune_layers": False,
    "keep_dense": False, "cluster": False, "quantize": False, "io": False, "per_channel": False,
    "calibration": True, "calibration_samples": False, "qat": False, "train_data": True, "epochs": False,
    "batch_size": False, "eval_data": True, "report": True,
}


def load_recipe(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ModelNotFoundError(f"recipe {str(p)!r} does not exist", hint="check the path of --recipe")
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
    return normalize(data, base=p.parent)


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
        if not isinstance(v, (str, int, float, bool, list)):
            v = f"<{type(v).__name__}>"  # in-memory model or arrays: not reproducible from the file
        clean[k] = v
    return "# the recipe edgelift used (rerun: edgelift convert --recipe THIS_FILE)\n" + yaml.safe_dump(
        clean, sort_keys=False)
