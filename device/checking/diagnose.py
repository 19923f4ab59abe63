"""Per-layer diagnosis: which layer of a quantized .tflite adds the error?

Both the quantized model and its float reference (.tflite) run on TFLite's builtin kernels with every
intermediate tensor preserved. Each quantized activation is dequantized and compared with the matching
float activation; a layer's *added* error is the relative error at its output minus the largest relative error
carried in by its inputs. Layers are ranked by added error; the first whose output crosses the threshold is
named, with advice that fits what was measured:

- its int8 range clips many float values             -> more (and more representative) calibration samples
- its activations span only a few int8 steps          -> int16x8 activations (16-bit activations, int8 weights)
- it alone adds most of the error                      -> keep that layer in float
- the error grows evenly over many layers             -> more calibration samples, or quantization-aware training

Matching: tensors of the two models are paired by op position when both have the same sequence of compute
ops (QUANTIZE / DEQUANTIZE at the float boundary are skipped), else by tensor name.

Relative error = RMS(dequantized - float) / RMS(float), over all samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import InvalidArgumentError, UnsupportedModelError
from ..runtime import dequantize, load_interpreter, quantize
from .diagnose_advice import advise
from .tensor_stats import TensorStats

DEFAULT_THRESHOLD = 0.10  # 10% relative RMS error at a layer's output
DEFAULT_SAMPLES = 32
_BOUNDARY_OPS = ("QUANTIZE", "DEQUANTIZE")


@dataclass
class LayerError:
    node: int  # op index in the quantized model
    op: str
    layer: str  # short name, from the tensor / weight names
    tensor: str  # the quantized output tensor's full name
    rel_error: float  # whole tensor
    carried_in: float  # the largest judged error among the layer's inputs
    snr_db: float
    max_abs_error: float
    scale: float
    zero_point: int
    clipped: float  # share of float values outside the int8 range the layer's output can represent
    levels: float  # float std / scale: how many int8 steps one standard deviation spans
    channels: dict[str, Any] = field(default_factory=dict)  # TensorStats.as_dict(): per-channel figures

    @property
    def channel_error(self) -> float:
        return float(self.channels.get("channel_error") or 0.0)

    @property
    def error(self) -> float:
        """The judged error: the whole tensor's, or the typical channel's where that is worse (crushed channels)."""
        return max(self.rel_error, self.channel_error)

    @property
    def added(self) -> float:
        return self.error - self.carried_in

    @property
    def range_dominated(self) -> bool:
        return bool(self.channels.get("range_dominated"))

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "layer": self.layer, "tensor": self.tensor,
                "rel_error": self.rel_error, "channel_error": self.channel_error, "error": self.error,
                "carried_in": self.carried_in, "added": self.added,
                "snr_db": self.snr_db, "max_abs_error": self.max_abs_error, "scale": self.scale,
                "zero_point": self.zero_point, "clipped": self.clipped, "levels": self.levels, **self.channels}


@dataclass
class Diagnosis:
    layers: list[LayerError]  # execution order
    threshold: float
    samples: int
    matching: str  # "position" or "name"
    unmatched: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    @property
    def ranked(self) -> list[LayerError]:
        return sorted(self.layers, key=lambda e: -e.added)

    @property
    def worst(self) -> list[LayerError]:
        return self.ranked[:5]

    @property
    def first_crossing(self) -> LayerError | None:
        return next((e for e in self.layers if e.error > self.threshold), None)

    @property
    def cause(self) -> LayerError | None:
        """The layer whose own output breaks the threshold, not one that inherits a broken input: the first
        over the threshold whose inputs arrived under it; a range-dominated tensor over it is named first."""
        over = [e for e in self.layers if e.error > self.threshold]
        dominated = [e for e in over if e.range_dominated]
        if dominated:
            return dominated[0]
        return next((e for e in over if e.carried_in <= self.threshold), over[0] if over else None)

    def as_dict(self) -> dict[str, Any]:
        first = self.first_crossing
        return {
            "threshold": self.threshold,
            "samples": self.samples,
            "matching": self.matching,
            "first_crossing": first.layer if first else None,
            "cause": self.cause.layer if self.cause else None,
            "worst": [e.layer for e in self.worst],
            "layers": [e.as_dict() for e in self.layers],
            "unmatched": self.unmatched,
            "advice": self.advice,
        }

    def format(self) -> str:
        lines = [f"per-layer error ({self.samples} samples, tensors matched by {self.matching}; relative RMS "
                 f"error of the tensor and of its median channel, threshold {self.threshold:g}; crushed: non-zero "
                 "float values quantized to 0; range: tensor range / median channel range):"]
        head = (f"  {'#':>3} {'layer':<22} {'op':<16} {'rel err':>8} {'channel':>8} {'added':>8} {'SNR dB':>7} "
                f"{'clipped':>8} {'crushed':>8} {'range':>6}")
        lines += [head]
        for e in self.layers:
            mark = " <- cause" if e is self.cause else " <- first over threshold" if e is self.first_crossing else ""
            mark += " (range dominated)" if e.range_dominated else ""
            lines.append(f"  {e.node:>3} {e.layer[:22]:<22} {e.op[:16]:<16} {e.rel_error:>8.4f} "
                         f"{e.channel_error:>8.4f} {e.added:>+8.4f} {e.snr_db:>7.1f} {100 * e.clipped:>7.2f}% "
                         f"{100 * float(e.channels.get('crushed_share', 0.0)):>7.2f}% "
                         f"{float(e.channels.get('dominance', 1.0)):>5.0f}x{mark}")
        first = self.first_crossing
        lines.append("first layer over threshold: " + (f"{first.layer} (node {first.node}, {first.op}, relative "
                                                      f"error {first.error:.4f})" if first else "none"))
        cause = self.cause
        if cause is not None and cause is not first:
            lines.append(f"cause: {cause.layer} (node {cause.node}, {cause.op})")
        lines.append("worst (error added): " + ", ".join(f"{e.layer} {e.added:+.4f}" for e in self.worst))
        if self.unmatched:
            lines.append("not compared (no float counterpart): " + ", ".join(self.unmatched))
        lines += [f"advice: {a}" for a in self.advice]
        return "\n".join(lines)


# -- graph helpers ------------------------------------------------------------------------------------
def _ops(runner) -> list[dict[str, Any]]:
    return [o for o in runner.interpreter._get_ops_details() if o["op_name"] != "DELEGATE"]


def _details(runner) -> dict[int, dict[str, Any]]:
    return {d["index"]: d for d in runner.interpreter.get_tensor_details()}


def _short_name(name: str, weight_names: list[str]) -> str:
    first = name.split(";")[0]
    for candidate in [first, *weight_names]:
        parts = [p for p in candidate.split("/") if p]
        if len(parts) >= 3:
            return parts[-2]
        if len(parts) == 2:
            return parts[0] if ":" not in parts[0] else parts[1]
    return first


def _match_ops(qops, fops, qdet, fdet) -> tuple[list[tuple[dict, dict]], str]:
    qc = [o for o in qops if o["op_name"] not in _BOUNDARY_OPS]
    fc = [o for o in fops if o["op_name"] not in _BOUNDARY_OPS]
    if [o["op_name"] for o in qc] == [o["op_name"] for o in fc]:
        return list(zip(qc, fc, strict=True)), "position"
    by_name: dict[str, dict] = {}
    for o in fc:
        for t in o["outputs"]:
            by_name.setdefault(fdet[int(t)]["name"], o)
    pairs = []
    for o in qc:
        names = [qdet[int(t)]["name"] for t in o["outputs"]]
        f = next((by_name[n] for n in names if n in by_name), None)
        if f is not None and f["op_name"] == o["op_name"]:
            pairs.append((o, f))
    return pairs, "name"


def _is_activation(detail: dict[str, Any]) -> bool:
    """Float values, or integers that stand for them (a quantization scale); not int32 shapes or indices."""
    kind = np.dtype(detail["dtype"]).kind
    return kind == "f" or (kind in "iu" and _qrange(detail)[2] > 0.0)


def _qrange(detail: dict[str, Any]) -> tuple[float, float, float, int]:
    qp = detail.get("quantization_parameters") or {}
    scales = np.asarray(qp.get("scales", []))
    zps = np.asarray(qp.get("zero_points", []))
    dtype = np.dtype(detail["dtype"])
    if scales.size == 0 or dtype.kind not in "iu":
        return float("-inf"), float("inf"), 0.0, 0
    s, z = float(scales.reshape(-1)[0]), int(zps.reshape(-1)[0]) if zps.size else 0
    info = np.iinfo(dtype)
    return (info.min - z) * s, (info.max - z) * s, s, z


# -- the diagnosis ------------------------------------------------------------------------------------
def diagnose(quantized: bytes | str, float_model: bytes | str, x_float: list[np.ndarray] | np.ndarray,
             threshold: float = DEFAULT_THRESHOLD, samples: int = DEFAULT_SAMPLES,
             runtime: str | None = None) -> Diagnosis:
    """Rank the layers of `quantized` by the error each adds relative to `float_model`, on float inputs."""
    if not (isinstance(threshold, (int, float)) and threshold > 0):
        raise InvalidArgumentError(f"layer threshold must be > 0, got {threshold!r}", hint="e.g. 0.1 (10%)")
    xs = [x_float] if isinstance(x_float, np.ndarray) else list(x_float)
    q = load_interpreter(quantized, "builtin", 1, None, runtime, preserve_all_tensors=True)
    f = load_interpreter(float_model, "builtin", 1, None, runtime, preserve_all_tensors=True)
    qdet, fdet = _details(q), _details(f)
    qops, fops = _ops(q), _ops(f)
    if not any(np.dtype(qdet[int(t)]["dtype"]).kind in "iu" and _qrange(qdet[int(t)])[2] > 0
               for o in qops for t in o["outputs"]):
        raise UnsupportedModelError(
            "per-layer diagnosis compares a quantized model with its float reference; the model has no quantized "
            "activations", hint="run it on the int8 .tflite, with the Keras model or float .tflite as reference")
    pairs, how = _match_ops(qops, fops, qdet, fdet)
    if not pairs:
        raise UnsupportedModelError(
            "no layer of the quantized model could be matched with the float reference (neither op order nor "
            "tensor names agree)", hint="pass the float .tflite or Keras model this model was converted from")

    # quantized tensor -> float tensor
    tmap: dict[int, int] = {}
    for qi, fi in zip(q.input_details, f.input_details, strict=True):
        tmap[int(qi["index"])] = int(fi["index"])
    for o in qops:  # the QUANTIZE right after a float input carries the input's values
        if o["op_name"] == "QUANTIZE" and int(o["inputs"][0]) in tmap:
            tmap[int(o["outputs"][0])] = tmap[int(o["inputs"][0])]
    for qo, fo in pairs:
        for a, b in zip(qo["outputs"], fo["outputs"], strict=False):
            tmap[int(a)] = int(b)

    n = min(int(xs[0].shape[0]), samples)
    accs: dict[int, TensorStats] = {t: TensorStats() for t in tmap}
    for i in range(n):
        qin = [quantize(x[i:i + 1], d) for x, d in zip(xs, q.input_details, strict=True)]
        fin = [x[i:i + 1].astype(np.float32) for x in xs]
        q.run(qin)
        f.run(fin)
        for qt, ft in tmap.items():
            d = qdet[qt]
            qv = q.tensor(qt)
            deq = dequantize(qv, d) if np.dtype(d["dtype"]).kind in "iu" else qv.astype(np.float32)
            fv = f.tensor(ft)
            if deq.shape != fv.shape:
                continue
            lo, hi, _, _ = _qrange(d)
            accs[qt].add(deq, fv, lo, hi)

    layers: list[LayerError] = []
    unmatched = []
    matched_q = {id(qo) for qo, _ in pairs}
    # the quantization of the model's inputs is the first place error enters: a pseudo-layer "input"
    inputs = [(-1, "INPUT", int(d["index"])) for d in q.input_details]
    inputs += [(int(o["index"]), "QUANTIZE", int(o["outputs"][0])) for o in qops
               if o["op_name"] == "QUANTIZE" and int(o["inputs"][0]) in {int(d["index"]) for d in q.input_details}]
    for node, op, t in inputs:
        acc = accs.get(t)
        if acc is None or not acc.count or _qrange(qdet[t])[2] == 0.0:
            continue
        lo, hi, scale, zp = _qrange(qdet[t])
        layers.append(LayerError(
            node=node, op=op, layer="input" if len(q.input_details) == 1 else f"input:{qdet[t]['name']}",
            tensor=qdet[t]["name"], rel_error=acc.rel, carried_in=0.0, snr_db=acc.snr_db, max_abs_error=acc.maxabs,
            scale=scale, zero_point=zp, clipped=acc.clipped / acc.count, levels=acc.std / scale,
            channels=acc.as_dict()))
    for o in qops:
        if o["op_name"] in _BOUNDARY_OPS:
            continue
        out = int(o["outputs"][0])
        if not _is_activation(qdet[out]):
            continue  # shape arithmetic (SHAPE, STRIDED_SLICE on int32 shapes): no values to compare
        weights = [qdet[int(t)]["name"] for t in o["inputs"] if int(t) >= 0 and int(t) in qdet
                   and int(t) not in tmap]
        name = _short_name(qdet[out]["name"], weights)
        if id(o) not in matched_q or out not in accs or accs[out].count == 0:
            unmatched.append(f"{name} ({o['op_name']})")
            continue
        acc = accs[out]
        carried = max([max(accs[int(t)].rel, accs[int(t)].channel_error) for t in o["inputs"]
                       if int(t) in accs and accs[int(t)].count and _is_activation(qdet[int(t)])] or [0.0])
        carried = carried if np.isfinite(carried) else 0.0
        lo, hi, scale, zp = _qrange(qdet[out])
        layers.append(LayerError(
            node=int(o["index"]), op=o["op_name"], layer=name, tensor=qdet[out]["name"], rel_error=acc.rel,
            carried_in=carried, snr_db=acc.snr_db, max_abs_error=acc.maxabs, scale=scale, zero_point=zp,
            clipped=acc.clipped / acc.count if acc.count else 0.0,
            levels=(acc.std / scale) if scale > 0 else float("inf"), channels=acc.as_dict(),
        ))
    _dedupe_names(layers)
    diag = Diagnosis(layers, float(threshold), n, how, unmatched)
    diag.advice = advise(diag)
    return diag


def _dedupe_names(layers: list[LayerError]) -> None:
    seen: dict[str, int] = {}
    for e in layers:
        seen[e.layer] = seen.get(e.layer, 0) + 1
    counts: dict[str, int] = {}
    for e in layers:
        if seen[e.layer] > 1:
            counts[e.layer] = counts.get(e.layer, 0) + 1
            e.layer = f"{e.layer}#{counts[e.layer]}"
