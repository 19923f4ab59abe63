"""Float samples in and out of a tensor's dtype (its scale and zero point, as LiteRT's QUANTIZE), and random
inputs shaped like a model's."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import quantization


def quantize(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float samples to the tensor's dtype with its (per-tensor) scale and zero point, as LiteRT's QUANTIZE
    (edgelift.quantization); float tensors pass."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return np.asarray(x, dtype=dtype)
    scale, zp = _qparams(detail)
    if scale == 0.0:  # not quantized: an integer input (ids, lengths): values pass as they are
        return np.asarray(x).astype(dtype)
    return quantization.quantize(x, scale, zp, dtype)


def dequantize(q: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return np.asarray(q, dtype=np.float32)
    scale, zp = _qparams(detail)
    if scale == 0.0:
        return np.asarray(q).astype(np.float32)
    return quantization.dequantize(q, scale, zp)


def _qparams(detail: dict[str, Any]) -> tuple[float, int]:
    qp = detail.get("quantization_parameters") or {}
    scales = np.asarray(qp.get("scales", []))
    zps = np.asarray(qp.get("zero_points", []))
    if scales.size == 0:
        scale, zp = detail.get("quantization", (0.0, 0))
        return float(scale), int(zp)
    return float(scales.reshape(-1)[0]), int(zps.reshape(-1)[0]) if zps.size else 0


def random_like(details: list[dict[str, Any]], seed: int = 0, batch: int | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for d in details:
        shape = [int(s) for s in d["shape"]]
        if batch is not None and shape:
            shape[0] = batch
        dtype = np.dtype(d["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            out.append(rng.integers(info.min, int(info.max) + 1, size=shape, dtype=dtype))
        elif dtype.kind == "b":
            out.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            out.append(rng.uniform(-1.0, 1.0, size=shape).astype(dtype))
    return out
