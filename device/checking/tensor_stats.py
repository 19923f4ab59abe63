"""Error statistics of one quantized tensor against its float counterpart, per tensor and per channel.

A tensor's relative RMS error hides what per-tensor int8 does to a tensor whose range a few channels dictate:
the loud channels dominate both the RMS and the scale, and the quiet ones are crushed to zero without moving
the tensor's figure. So every tensor is also judged per channel (the last axis, TFLite's channel axis for
NHWC and [batch, features] tensors), each channel relative to its own RMS, and its values are counted:
clipped (outside the int8 range), crushed (a non-zero float value that quantizes to exactly zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# a channel whose relative error is above this lost more of its signal than it kept
CRUSHED_CHANNEL_ERROR = 0.5
# a tensor is range-dominated when its range is this many times the median channel's ...
DOMINATION_RATIO = 8.0
# ... and at least this share of its live channels are crushed
DOMINATION_CRUSHED_SHARE = 0.25


class TensorStats:
    """Accumulates over samples: whole-tensor sums and per-channel sums of error, energy and range."""

    __slots__ = ("err2", "ref2", "maxabs", "clipped", "crushed", "nonzero", "count", "sum", "sum2",
                 "ch_err2", "ch_ref2", "ch_absmax")

    def __init__(self) -> None:
        self.err2 = self.ref2 = self.maxabs = self.sum = self.sum2 = 0.0
        self.clipped = self.crushed = self.nonzero = self.count = 0
        self.ch_err2: np.ndarray | None = None
        self.ch_ref2: np.ndarray | None = None
        self.ch_absmax: np.ndarray | None = None

    def add(self, q: np.ndarray, f: np.ndarray, lo: float, hi: float) -> None:
        """`q`: the quantized tensor, dequantized; `f`: the float one; [lo, hi]: the range q can represent."""
        q64, f64 = q.astype(np.float64), f.astype(np.float64)
        d = q64 - f64
        self.err2 += float(np.sum(d * d))
        self.ref2 += float(np.sum(f64 * f64))
        self.maxabs = max(self.maxabs, float(np.max(np.abs(d))) if d.size else 0.0)
        self.clipped += int(np.count_nonzero((f < lo) | (f > hi)))
        live = f64 != 0.0
        self.nonzero += int(np.count_nonzero(live))
        self.crushed += int(np.count_nonzero(live & (q64 == 0.0)))
        self.count += int(f.size)
        self.sum += float(np.sum(f64))
        self.sum2 += float(np.sum(f64 * f64))
        if f.ndim >= 2 and f.shape[-1] > 1:
            c = f.shape[-1]
            e2 = np.sum((d * d).reshape(-1, c), axis=0)
            r2 = np.sum((f64 * f64).reshape(-1, c), axis=0)
            am = np.max(np.abs(f64).reshape(-1, c), axis=0)
            if self.ch_err2 is None:
                self.ch_err2, self.ch_ref2, self.ch_absmax = e2, r2, am
            elif self.ch_err2.shape == e2.shape:
                self.ch_err2 = self.ch_err2 + e2
                self.ch_ref2 = self.ch_ref2 + r2
                self.ch_absmax = np.maximum(self.ch_absmax, am)

    # -- whole tensor ---------------------------------------------------------------------------------
    @property
    def rel(self) -> float:
        if self.ref2 == 0.0:
            return 0.0 if self.err2 == 0.0 else float("inf")
        return float(np.sqrt(self.err2 / self.ref2))

    @property
    def snr_db(self) -> float:
        if self.err2 == 0.0:
            return float("inf")
        if self.ref2 == 0.0:
            return float("-inf")
        return float(10.0 * np.log10(self.ref2 / self.err2))

    @property
    def std(self) -> float:
        if not self.count:
            return 0.0
        mean = self.sum / self.count
        return float(np.sqrt(max(self.sum2 / self.count - mean * mean, 0.0)))

    @property
    def crushed_share(self) -> float:
        """Share of the non-zero float values that quantize to exactly zero."""
        return self.crushed / self.nonzero if self.nonzero else 0.0

    # -- per channel ----------------------------------------------------------------------------------
    def _live(self) -> np.ndarray:
        """Channels that carry signal: dead ReLU channels (all zeros in float) have no error to judge."""
        if self.ch_ref2 is None:
            return np.zeros(0, dtype=bool)
        return self.ch_ref2 > 0.0

    @property
    def channels(self) -> int:
        return 0 if self.ch_ref2 is None else int(self.ch_ref2.size)

    def channel_errors(self) -> np.ndarray:
        """Relative RMS error of each live channel, each against its own RMS (channel order kept, NaN if dead)."""
        if self.ch_ref2 is None:
            return np.zeros(0)
        out = np.full(self.ch_ref2.shape, np.nan)
        live = self._live()
        out[live] = np.sqrt(self.ch_err2[live] / self.ch_ref2[live])
        return out

    @property
    def channel_error(self) -> float:
        """Median relative error over the live channels: what a typical channel loses (0 without channels)."""
        errs = self.channel_errors()
        errs = errs[np.isfinite(errs)]
        return float(np.median(errs)) if errs.size else 0.0

    @property
    def worst_channel(self) -> tuple[int, float] | None:
        errs = self.channel_errors()
        if not np.isfinite(errs).any():
            return None
        i = int(np.nanargmax(errs))
        return i, float(errs[i])

    def crushed_channels(self) -> list[int]:
        errs = self.channel_errors()
        return [int(i) for i in np.flatnonzero(np.isfinite(errs) & (errs > CRUSHED_CHANNEL_ERROR))]

    def dominance(self) -> float:
        """Tensor range / the median live channel's range: how far a few channels stretch the int8 scale."""
        live = self._live()
        if self.ch_absmax is None or live.sum() < 2:
            return 1.0
        med = float(np.median(self.ch_absmax[live]))
        return float(np.max(self.ch_absmax[live]) / med) if med > 0 else float("inf")

    def dominating_channels(self) -> list[int]:
        """The channels whose range is within a factor of 2 of the tensor's: the ones that set its scale."""
        if self.ch_absmax is None:
            return []
        top = float(np.max(self.ch_absmax))
        return [int(i) for i in np.flatnonzero(self.ch_absmax >= top / 2)] if top > 0 else []

    def range_dominated(self) -> bool:
        """A few channels set the scale and many of the others are crushed by it."""
        live = int(self._live().sum())
        if live < 2:
            return False
        return (self.dominance() >= DOMINATION_RATIO and len(self.dominating_channels()) <= max(1, live // 4)
                and len(self.crushed_channels()) >= DOMINATION_CRUSHED_SHARE * live)

    def as_dict(self) -> dict[str, Any]:
        worst = self.worst_channel
        return {"channels": self.channels, "live_channels": int(self._live().sum()),
                "channel_error": self.channel_error, "worst_channel": None if worst is None else worst[0],
                "worst_channel_error": None if worst is None else worst[1],
                "crushed_channels": self.crushed_channels(), "crushed_share": self.crushed_share,
                "dominance": self.dominance(), "dominating_channels": self.dominating_channels(),
                "range_dominated": self.range_dominated()}
