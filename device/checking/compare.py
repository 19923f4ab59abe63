"""How far one output is from its reference: max/mean abs error, SNR, cosine, top-1 agreement and accuracy;
and, for two integer runs, bit for bit (identical share, largest difference in LSB)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _top1(a: np.ndarray) -> np.ndarray | None:
    if a.ndim < 2 or a.shape[-1] < 2:
        return None
    return a.reshape(a.shape[0], -1, a.shape[-1]).argmax(-1).reshape(a.shape[0], -1)


def compare(out: np.ndarray, ref: np.ndarray, labels: np.ndarray | None = None) -> dict[str, Any]:
    """Float comparison of one output (samples on the first axis)."""
    a = np.asarray(out, np.float64)
    b = np.asarray(ref, np.float64)
    diff = a - b
    noise = float(np.sum(diff * diff))
    signal = float(np.sum(b * b))
    if noise == 0.0:
        snr = float("inf")
    elif signal == 0.0:
        snr = float("-inf")
    else:
        snr = 10.0 * np.log10(signal / noise)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    cosine = float(np.dot(a.ravel(), b.ravel()) / (na * nb)) if na > 0 and nb > 0 else (1.0 if na == nb else 0.0)
    m: dict[str, Any] = {
        "max_abs_error": float(np.max(np.abs(diff))) if diff.size else 0.0,
        "mean_abs_error": float(np.mean(np.abs(diff))) if diff.size else 0.0,
        "snr_db": float(snr),
        "cosine": cosine,
        "top1_agreement": None,
        "accuracy": None,
        "reference_accuracy": None,
        "accuracy_drop": None,
    }
    ta, tb = _top1(a), _top1(b)
    if ta is not None:
        m["top1_agreement"] = float(np.mean(ta == tb))
        if labels is not None and ta.shape[1] == 1:
            y = np.asarray(labels).reshape(-1)
            m["accuracy"] = float(np.mean(ta[:, 0] == y))
            m["reference_accuracy"] = float(np.mean(tb[:, 0] == y))
            m["accuracy_drop"] = m["reference_accuracy"] - m["accuracy"]
    return m


def _ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units of the last place: integer difference for integers, ordered bit patterns for floats."""
    if a.dtype.kind in "iub":
        return np.abs(a.astype(np.int64) - b.astype(np.int64))
    ints = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(x):
        i = x.view(ints).astype(np.int64)
        return np.where(i < 0, np.iinfo(ints).min - i, i)

    return np.abs(ordered(a) - ordered(b))


def compare_exact(out: np.ndarray, ref: np.ndarray) -> dict[str, Any]:
    d = _ulp_distance(out, ref)
    hist = {int(k): int(v) for k, v in zip(*np.unique(d, return_counts=True), strict=True)} if d.size else {}
    return {
        "identical_share": float(np.mean(d == 0)) if d.size else 1.0,
        "elements": int(d.size),
        "differing_elements": int(np.count_nonzero(d)),
        "max_lsb_difference": int(d.max()) if d.size else 0,
        "lsb_histogram": hist,
    }
