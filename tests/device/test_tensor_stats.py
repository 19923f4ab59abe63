"""Per-channel statistics of one tensor (numpy only): crushed channels and range domination are found, a
healthy tensor is not flagged, dead channels are not judged."""

from __future__ import annotations

import numpy as np

from edgelift.device.checking.tensor_stats import TensorStats


def _int8_per_tensor(f: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Dequantized per-tensor int8 of a ReLU output (zero point -128, like TFLite's): (values, lo, hi)."""
    scale = float(f.max()) / 255.0
    q = np.clip(np.round(f / scale) - 128, -128, 127)
    return (q + 128) * scale, 0.0, 255 * scale


def _stats(f: np.ndarray) -> TensorStats:
    s = TensorStats()
    q, lo, hi = _int8_per_tensor(f)
    s.add(q, f, lo, hi)
    return s


def test_one_loud_channel_crushes_the_others_and_is_named():
    rng = np.random.default_rng(0)
    f = rng.uniform(0, 1, (4, 6, 6, 16)).astype(np.float32)
    f[..., 5] *= 1000.0
    s = _stats(f)
    assert s.rel < 0.01  # the whole tensor's error hides it: the loud channel dominates the RMS
    assert s.channel_error > 0.5 and s.worst_channel[1] > 0.5
    assert s.crushed_channels() == [c for c in range(16) if c != 5]
    assert s.dominating_channels() == [5] and s.dominance() > 500
    assert s.range_dominated() and s.crushed_share > 0.5
    d = s.as_dict()
    assert d["range_dominated"] and d["dominating_channels"] == [5] and d["live_channels"] == 16


def test_healthy_tensor_is_not_flagged():
    rng = np.random.default_rng(1)
    f = rng.uniform(0, 1, (4, 6, 6, 16)).astype(np.float32) * rng.uniform(0.5, 2.0, 16).astype(np.float32)
    s = _stats(f)
    assert s.channel_error < 0.02 and s.crushed_channels() == [] and not s.range_dominated()
    assert s.dominance() < 3


def test_dead_channels_are_not_judged_and_one_channel_has_no_spread():
    f = np.zeros((2, 3, 3, 4), np.float32)
    f[..., 0] = 1.0
    f[..., 1] = 0.5
    s = _stats(f)
    assert s.as_dict()["live_channels"] == 2 and np.isnan(s.channel_errors()[2])
    assert not s.range_dominated()
    flat = TensorStats()
    flat.add(np.ones(5), np.ones(5), 0.0, 2.0)  # a 1-D tensor has no channel axis
    assert flat.channels == 0 and flat.channel_error == 0.0 and flat.dominance() == 1.0
