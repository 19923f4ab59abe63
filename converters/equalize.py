"""Cross-layer equalization: move each channel's scale from one layer's weights into the next layer's.

When a layer's output channel c is k times larger than the others, per-tensor int8 gives the whole output
tensor the scale that channel needs and crushes the rest. If only positively homogeneous per-channel ops
(ReLU, pooling, flatten) sit between that layer A and the next weighted layer B, then dividing A's channel c
(kernel and bias) by s_c and multiplying B's weights that read channel c by s_c computes the same function:
relu(x / s) * s = relu(x). The scale that equalizes the two weight ranges is s_c = sqrt(r1_c / r2_c), with r1_c
the largest |weight| of A's output channel c and r2_c the largest |weight| of B reading it (Nagel et al. 2019,
"Data-Free Quantization"; what AIMET and MCT call cross-layer equalization). Exact in float, up to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

PASSES = 8  # chains (A -> B -> C) converge in a few alternating passes
_SCALE_LIMIT = 1e6  # beyond this a channel is dead in one layer: leave it alone rather than blow up the other


@dataclass
class Pair:
    first: Any  # the layer whose output channels are rescaled (Conv2D / Dense, activation relu or linear)
    second: Any  # the next weighted layer reading them (Conv2D without groups / Dense)
    flatten_channels: int | None  # set when a Flatten sits between: B's input rows interleave this many channels


def _kind(layer) -> str:
    return type(layer).__name__


def _homogeneous(layer) -> bool:
    """relu(x * s) = relu(x) * s for s > 0: true of these per-channel ops, false of relu6, sigmoid, BN, ..."""
    kind = _kind(layer)
    if kind in ("MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dropout",
                "Flatten", "ZeroPadding2D"):
        return True
    if kind == "ReLU":
        cfg = layer.get_config()
        return cfg.get("max_value") is None and not cfg.get("threshold") and not cfg.get("negative_slope")
    if kind == "Activation":
        return layer.get_config().get("activation") in ("relu", "linear")
    return False


def _weighted(layer, as_first: bool) -> bool:
    kind = _kind(layer)
    if kind not in ("Conv2D", "Dense") or not layer.get_weights():
        return False
    if kind == "Conv2D" and layer.get_config().get("groups", 1) != 1:
        return False
    if as_first:
        return layer.get_config().get("activation") in ("relu", "linear")
    return True


def _consumers(model) -> dict[int, list]:
    """id(layer) -> the model's layers that take its output."""
    out: dict[int, list] = {id(layer): [] for layer in model.layers}
    for layer in model.layers:
        for node in getattr(layer, "_inbound_nodes", []):
            inbound = node.inbound_layers
            for src in inbound if isinstance(inbound, (list, tuple)) else [inbound]:
                if id(src) in out and layer not in out[id(src)]:
                    out[id(src)].append(layer)
    return out


def find_pairs(model) -> list[Pair]:
    """Every (A, B) where A's output reaches only B, through homogeneous per-channel ops that nothing else reads."""
    consumers = _consumers(model)
    pairs = []
    for first in model.layers:
        if not _weighted(first, as_first=True):
            continue
        node, flat = first, None
        while True:
            nxt = consumers.get(id(node), [])
            if len(nxt) != 1:
                break
            node = nxt[0]
            if _kind(node) == "Flatten":
                flat = int(first.get_weights()[0].shape[-1])
            if _weighted(node, as_first=False):
                if _kind(node) == "Conv2D" and flat is not None:
                    break
                pairs.append(Pair(first, node, flat))
                break
            if not _homogeneous(node):
                break
    return pairs


def _input_ranges(second, channels: int, flat: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(per-channel largest |weight| of B reading each of A's channels, B's kernel with input rows first)."""
    kernel = second.get_weights()[0]
    rows = np.moveaxis(kernel, -2, 0).reshape(kernel.shape[-2], -1)  # [in, everything else]
    if flat is not None:  # Flatten of HxWxC: row i reads channel i % C
        rows = rows.reshape(-1, flat, rows.shape[1]).transpose(1, 0, 2).reshape(flat, -1)
    return np.max(np.abs(rows), axis=1), kernel


def _apply(pair: Pair, s: np.ndarray) -> None:
    w1 = pair.first.get_weights()
    w1[0] = w1[0] / s  # output channel is the last axis of Conv2D and Dense kernels
    if len(w1) > 1:
        w1[1] = w1[1] / s
    pair.first.set_weights(w1)
    w2 = pair.second.get_weights()
    k = w2[0]
    if pair.flatten_channels is not None:
        k = k * np.tile(s, k.shape[0] // s.size)[:, None]
    else:
        shape = [1] * k.ndim
        shape[-2] = s.size
        k = k * s.reshape(shape)
    w2[0] = k
    pair.second.set_weights(w2)


def equalize(model) -> dict[str, Any]:
    """Equalize `model` in place (pass a working copy); returns what was done, for the report."""
    pairs = find_pairs(model)
    total = {id(p.first): np.ones(p.first.get_weights()[0].shape[-1]) for p in pairs}
    for _ in range(PASSES):
        change = 0.0
        for p in pairs:
            k1 = p.first.get_weights()[0]
            r1 = np.max(np.abs(k1.reshape(-1, k1.shape[-1])), axis=0)
            r2, _ = _input_ranges(p.second, k1.shape[-1], p.flatten_channels)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.sqrt(r1 / r2)
            s = np.where(np.isfinite(s) & (s > 1 / _SCALE_LIMIT) & (s < _SCALE_LIMIT), s, 1.0).astype(np.float32)
            _apply(p, s)
            total[id(p.first)] *= s
            change = max(change, float(np.max(np.abs(np.log(s)))) if s.size else 0.0)
        if change < 1e-3:
            break
    return {"pairs": [{"layer": p.first.name, "next": p.second.name,
                       "largest_scale": float(np.max(total[id(p.first)])),
                       "smallest_scale": float(np.min(total[id(p.first)]))} for p in pairs]}
