"""Per-layer sparsity: `--prune-layers conv2=0.45,conv3` prunes conv2 to 45% and conv3 to `--prune`'s sparsity.

A selector is a layer name or type, as before; `=S` gives that layer (or type) its own target sparsity, which
the sparsity search writes into the recipe it emits so that a rerun prunes each layer as the winner did. A
sparsity of 0 leaves the layer dense. In a recipe the same reads as a list (`[conv2=0.45, conv3]`) or a mapping
(`{conv2: 0.45, conv3: null}`). A name beats a type when both select a layer.
"""

from __future__ import annotations

import math
import re

from edgelift.errors import InvalidArgumentError

_ITEM = re.compile(r"\s*([^=\s][^=]*?)\s*(?:=\s*(\S+)\s*)?$")
FLAG = "--prune-layers"


def _sparsity(selector: str, value) -> float:
    """One layer's target: a number in [0, 1)."""
    try:
        s = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        s = math.nan
    if not (0.0 <= s < 1.0):
        raise InvalidArgumentError(f"{FLAG} {selector}={value}: a layer's sparsity must be a number in [0, 1)",
                                   hint=f"e.g. {FLAG} {selector}=0.5 (0 keeps it dense)")
    return s


def parse(value) -> tuple[list[str] | None, dict[str, float]]:
    """'conv2=0.45, conv3' / ['conv2=0.45', 'conv3'] / {'conv2': 0.45, 'conv3': None} ->
    (['conv2', 'conv3'], {'conv2': 0.45}); None -> (None, {}); 'none' -> ([], {})."""
    if value is None:
        return None, {}
    if isinstance(value, dict):
        items = [(str(k).strip(), v) for k, v in value.items()]
    else:
        parts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
        items = []
        for part in (p for p in parts if p.strip()):
            m = _ITEM.match(part)
            if not m:
                raise InvalidArgumentError(f"{FLAG} {part.strip()!r} is not NAME or NAME=SPARSITY",
                                           hint=f"e.g. {FLAG} conv2=0.5,conv3")
            items.append((m.group(1), m.group(2)))
    names = [name for name, _ in items if name]
    if names in (["none"], ["None"]):
        return [], {}
    overrides = {name: _sparsity(name, v) for name, v in items if v is not None}
    return names, overrides


def targets(layers, default: float, overrides: dict[str, float]) -> dict[str, float]:
    """Each selected layer's target sparsity: its name's override, else its type's, else `default`."""
    from .policy import layer_type

    out = {}
    for layer in layers:
        by_type = overrides.get(layer_type(layer), default)
        out[layer.name] = overrides.get(layer.name, by_type)
    return out


def as_setting(names: list[str] | None, overrides: dict[str, float]):
    """What the recipe records: the plain list when no layer has its own sparsity, else a mapping."""
    if names is None or not overrides:
        return names
    return {name: overrides.get(name) for name in names}


def check_kind(kind: str, overrides: dict[str, float]) -> None:
    """2:4 sparsity is exactly one half: a layer takes 0.5 or 0 (dense)."""
    odd = {n: s for n, s in overrides.items() if s not in (0.0, 0.5)}
    if kind == "2:4" and odd:
        name, s = next(iter(odd.items()))
        raise InvalidArgumentError(f"{FLAG} {name}={s:g} with --prune-kind 2:4: a 2:4 layer is 0.5 sparse or dense",
                                   hint=f"use {name}=0.5, or {name}=0 to keep it dense")
