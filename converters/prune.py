"""Magnitude pruning: unstructured, 2:4 and RxC blocks; gradual with fine-tuning, or one shot without data.

- With training data, unstructured and 2:4 use TFMOT's `prune_low_magnitude` (polynomial schedule,
  `sparsity_m_by_n=(2, 4)`); block sparsity uses edgelift's own schedule-driven mask (TFMOT's `block_size`
  rejects Conv2D), re-applied after every training step so fine-tuning cannot revive pruned blocks.
- Without training data, masks are computed once from weight magnitudes, with a warning that accuracy is
  unchecked.
Either way the result is a plain tf_keras model (wrappers stripped) whose pruned weights are exact zeros.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from edgelift._tf import keras, tfmot
from edgelift.errors import InvalidArgumentError

from . import masks
from .policy import KINDS, LayerPolicy, layer_type, prunable_weights
from .train import fit, steps_per_epoch
from .warn import warn


@dataclass
class PruneSpec:
    sparsity: float
    kind: str = "unstructured"
    block: tuple[int, int] = (1, 4)
    per_layer: dict[str, float] = field(default_factory=dict)  # layer name or type -> its own target


def parse_block(value) -> tuple[int, int]:
    """'1x4' / '4X4' / (1, 4) -> (1, 4)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        r, c = value
    else:
        m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(value))
        if not m:
            raise InvalidArgumentError(f"--block {value!r} is not RxC", hint="write it like 1x4 or 4x4")
        r, c = m.groups()
    try:
        r, c = int(r), int(c)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"--block {value!r} is not RxC", hint="write it like 1x4 or 4x4") from None
    if r < 1 or c < 1 or r * c < 2:
        raise InvalidArgumentError(f"--block {r}x{c} must have positive sides and at least 2 elements",
                                   hint="for example 1x4 (4 input channels) or 4x4")
    return r, c


def check_kind(kind) -> str:
    if kind not in KINDS:
        raise InvalidArgumentError(f"--prune-kind {kind!r} is not one of {', '.join(KINDS)}",
                                   hint="use unstructured, 2:4 or block")
    return kind


def check_spec(sparsity, kind: str = "unstructured", block=(1, 4), per_layer=None) -> PruneSpec:
    """Validate the user's pruning arguments before any work starts."""
    from .layer_sparsity import check_kind as check_layer_kind

    check_kind(kind)
    check_layer_kind(kind, per_layer or {})
    if kind == "2:4":
        if sparsity is not None and float(sparsity) != 0.5:
            raise InvalidArgumentError(
                f"--prune {sparsity} with --prune-kind 2:4: 2:4 sparsity is exactly 0.5",
                hint="drop --prune or pass --prune 0.5",
            )
        sparsity = 0.5
    try:
        s = float(sparsity)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"--prune {sparsity!r} is not a number",
                                   hint="give a sparsity in [0, 1), e.g. 0.75") from None
    if not 0.0 <= s < 1.0 or s != s:
        raise InvalidArgumentError(f"sparsity {sparsity} is outside [0, 1)",
                                   hint="give the fraction of weights to zero, e.g. --prune 0.75")
    return PruneSpec(s, kind, parse_block(block), dict(per_layer or {}))


def _kernel_var(layer):
    name = prunable_weights(layer)[0]
    return getattr(layer, name)


def sparsity_of(layer) -> float:
    w = _kernel_var(layer).numpy()
    return float(np.count_nonzero(w == 0) / w.size)


def _one_shot(layers, spec: PruneSpec, target: dict[str, float]) -> None:
    for layer in layers:
        var = _kernel_var(layer)
        w = var.numpy()
        var.assign(w * masks.make(w, spec.kind, target[layer.name], spec.block, layer.name))


def _poly(step: int, end: int, target: float) -> float:
    if step >= end:
        return target
    return target * (1.0 - (1.0 - step / end) ** 3)


def _block_callback(layers, spec: PruneSpec, target: dict[str, float], end_step: int, frequency: int):
    class BlockPruning(keras().callbacks.Callback):
        """Gradual block pruning: recompute masks on the schedule, re-apply them after every step."""

        def on_train_begin(self, logs=None):
            self.step = 0
            self.masks = {}

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            update = self.step % frequency == 0 or self.step == end_step or not self.masks
            for layer in layers:
                var = _kernel_var(layer)
                w = var.numpy()
                if update and self.step <= end_step:
                    s = _poly(self.step, end_step, target[layer.name])
                    self.masks[layer.name] = masks.block(w, s, *spec.block, layer=layer.name)
                var.assign(w * self.masks[layer.name])

        def on_train_end(self, logs=None):  # the final mask at the target sparsity
            for layer in layers:
                var = _kernel_var(layer)
                w = var.numpy()
                var.assign(w * masks.block(w, target[layer.name], *spec.block, layer=layer.name))

    return BlockPruning()


def prune(model, spec: PruneSpec, policy: LayerPolicy | None = None, train=None, *, epochs: int = 2,
          batch_size: int = 32, loss=None) -> tuple[object, dict]:
    """Prune `model` (a tf_keras model, modified in place or replaced); returns (model, info)."""
    from .layer_sparsity import targets

    policy = policy or LayerPolicy()
    layers = policy.select(model, "pruning", spec.kind)
    target = targets(layers, spec.sparsity, spec.per_layer)
    for layer in layers:  # a layer given sparsity 0 stays dense
        if target[layer.name] == 0.0:
            policy.reasons[layer.name] = "kept dense"
    layers = [layer for layer in layers if target[layer.name] > 0.0]
    # check shapes for structured kinds up front (errors name the layer) before any training
    for layer in layers:
        w = _kernel_var(layer).numpy()
        if spec.kind == "2:4":
            masks.m_by_n(w, 2, 4, layer.name)
        elif spec.kind == "block":
            masks.block(w, 0.0, *spec.block, layer=layer.name)
    names = {layer.name for layer in layers}
    fine_tuned = False
    if not layers:
        pass
    elif train is None:
        asked = (f"{spec.sparsity:.0%}" if all(t == spec.sparsity for t in target.values()) else
                 ", ".join(f"{n} {t:.0%}" for n, t in target.items() if t > 0))
        warn(f"pruned to {asked} ({spec.kind}) in one shot without training data: accuracy is "
             "unchecked; pass --train-data to fine-tune and --eval-data to measure it")
        _one_shot(layers, spec, target)
    else:
        x, y = train
        total = epochs * steps_per_epoch(len(x), batch_size)
        frequency = max(1, total // 20)
        end_step = max(frequency, (int(total * 0.7) // frequency) * frequency)
        if spec.kind == "block":
            fit(model, x, y, epochs=epochs, batch_size=batch_size, desc="fine-tuning (block pruning)", loss=loss,
                callbacks=[_block_callback(layers, spec, target, end_step, frequency)])
        else:
            mot = tfmot()
            sk = mot.sparsity.keras
            extra = {"sparsity_m_by_n": (2, 4)} if spec.kind == "2:4" else {}

            def wrap(layer):
                if layer.name in names:
                    sched = sk.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target[layer.name], begin_step=0,
                                               end_step=end_step, frequency=frequency)
                    return sk.prune_low_magnitude(layer, pruning_schedule=sched, **extra)
                return layer

            wrapped = keras().models.clone_model(model, clone_function=wrap)
            fit(wrapped, x, y, epochs=epochs, batch_size=batch_size, desc=f"fine-tuning ({spec.kind} pruning)",
                loss=loss, callbacks=[sk.UpdatePruningStep()])
            model = sk.strip_pruning(wrapped)
            layers = [model.get_layer(n) for n in (layer.name for layer in layers)]
            if spec.kind == "unstructured":  # TFMOT's last mask can land a step short of the target
                _one_shot(layers, spec, target)
        fine_tuned = True
    per_layer = [
        {"layer": layer.name, "type": layer_type(layer), "kind": spec.kind, "target": target[layer.name],
         "sparsity": sparsity_of(layer)}
        for layer in layers
    ]
    info = {
        "kind": spec.kind, "target_sparsity": spec.sparsity,
        "block": f"{spec.block[0]}x{spec.block[1]}" if spec.kind == "block" else None,
        "fine_tuned": fine_tuned, "layers": per_layer,
        "kept_dense": sorted(n for n, why in policy.reasons.items() if why == "kept dense"),
    }
    return model, info
