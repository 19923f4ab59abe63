"""Advice from a per-layer diagnosis: name the layer that causes the loss and the fixes that address it.

Most specific first:
- a range-dominated tensor (a few channels set the int8 scale, the others are crushed) -> that layer is the
  cause, whatever the layers after it show: cross-layer equalization (`convert --equalize`), int16x8
  activations, or keeping it in float
- its int8 range clips many float values             -> more (and more representative) calibration samples
- its activations span only a few int8 steps          -> int16x8 activations (16-bit activations, int8 weights)
- it alone adds most of the error                      -> keep that layer in float
- the error grows evenly over many layers             -> more calibration samples, or quantization-aware training
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .diagnose import Diagnosis, LayerError


def _channels(idx: list[int], limit: int = 6) -> str:
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def range_domination(e: LayerError) -> str:
    c = e.channels
    loud = c.get("dominating_channels") or []
    crushed = c.get("crushed_channels") or []
    word = "channel" if len(loud) == 1 else "channels"
    verb = "sets" if len(loud) == 1 else "set"
    return (f"{e.layer} ({e.op}): range domination — {word} {_channels(loud)} {verb} the int8 range of its output "
            f"({c.get('dominance', 0.0):.0f}x the median channel's range), so {len(crushed)} of its "
            f"{c.get('live_channels', 0)} live channels are crushed (median channel error {e.channel_error:.2f}, "
            f"while the whole tensor's is {e.rel_error:.3f}); the layers after it only inherit the loss. Fix it "
            f"here: `edgelift convert --equalize` (cross-layer equalization rescales those channels into the next "
            f"layer's weights, exact in float), or 16-bit activations (`--quantize int16x8`), or keep {e.layer} "
            "in float")


def advise(d: Diagnosis) -> list[str]:
    """Advice that fits the measurements, most specific first."""
    if not d.layers:
        return []
    ranked = d.ranked
    top = ranked[0]
    positive = sum(max(e.added, 0.0) for e in d.layers)
    final = d.layers[-1].error
    advice: list[str] = []
    if final <= d.threshold and top.error <= d.threshold:
        advice.append(f"no layer crosses the threshold ({d.threshold:g}); the largest contribution is {top.layer} "
                      f"({top.added:+.4f}) — nothing to fix")
        return advice
    cause = d.cause
    if cause is not None and cause.range_dominated:
        advice.append(range_domination(cause))
        top = cause
    dominant = positive > 0 and top.added / positive >= 0.5
    if top.range_dominated:
        pass
    elif top.clipped > 0.01:
        advice.append(f"{top.layer}: its int8 range clips {100 * top.clipped:.1f}% of the float activations — "
                      "calibrate with more (and more representative) samples")
    elif top.levels < 8.0:
        advice.append(f"{top.layer}: one standard deviation of its activations spans only {top.levels:.2g} int8 "
                      "steps (outliers stretch the range) — use int16x8 activations (16-bit activations, 8-bit "
                      "weights) for this model or layer")
    elif dominant and top.op not in ("INPUT", "QUANTIZE"):
        advice.append(f"{top.layer} ({top.op}) alone adds {100 * top.added / positive:.0f}% of the error with a "
                      "sane activation range — keep that layer in float (exclude it from int8 quantization), and "
                      "check its weights: an error this large usually means corrupted or mis-scaled weights")
    if not dominant and not top.range_dominated:
        advice.append("the error grows over many layers (no single layer adds half of it) — use more calibration "
                      "samples, or quantization-aware training")
    return advice
