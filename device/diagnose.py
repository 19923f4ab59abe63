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

from ..errors import InvalidArgumentError, UnsupportedModelError
from .runtime import dequantize, load_interpreter, quantize

DEFAULT_THRESHOLD = 0.10  # 10% relative RMS error at a layer's output
DEFAULT_SAMPLES = 32
_BOUNDARY_OPS = ("QUANTIZE", "DEQUANTIZE")


@dataclass
class LayerError:
    node: int  # op index in the quantized model
    op: str
    layer: str  # short name, from the tensor / weight names
    tensor: str  # the quantized output tensor's full name
    rel_error: float
    carried_in: float
    snr_db: float
    max_abs_error: float
    scale: float
    zero_point: int
    clipped: float  # share of float values outside the int8 range the layer's output can represent
    levels: float  # float std / scale: how many int8 steps one standard deviation spans

    @property
    def added(self) -> float:
        return self.rel_error - self.carried_in

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "op": self.op, "layer": self.layer, "tensor": self.tensor,
                "rel_error": self.rel_error, "carried_in": self.carried_in, "added": self.added,
                "snr_db": self.snr_db, "max_abs_error": self.max_abs_error, "scale": self.scale,
                "zero_point": self.zero_point, "clipped": self.clipped, "levels": self.levels}


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
        return next((e for e in self.layers if e.rel_error > self.threshold), None)

    def as_dict(self) -> dict[str, Any]:
        first = self.first_crossing
        return {
            "threshold": self.threshold,
            "samples": self.samples,
            "matching": self.matching,
            "first_crossing": first.layer if first else None,
            "worst": [e.layer for e in self.worst],
            "layers": [e.as_dict() for e in self.layers],
            "unmatched": self.unmatched,
            "advice": self.advice,
        }

    def format(self) -> str:
        lines = [f"per-layer error ({self.samples} samples, tensors matched by {self.matching}; "
                 f"relative RMS error, threshold {self.threshold:g}):"]
        head = f"  {'#':>3} {'layer':<22} {'op':<16} {'rel err':>8} {'added':>8} {'SNR dB':>7} {'clipped':>8}"
        lines += [head]
        for e in self.layers:
            mark = " <- first over threshold" if e is self.first_crossing else ""
            lines.append(f"  {e.node:>3} {e.layer[:22]:<22} {e.op[:16]:<16} {e.rel_error:>8.4f} {e.added:>+8.4f} "
                         f"{e.snr_db:>7.1f} {100 * e.clipped:>7.2f}%{mark}")
        first = self.first_crossing
        lines.append("first layer over threshold: " + (f"{first.layer} (node {first.node}, {first.op}, relative "
                                                      f"error {first.rel_error:.4f})" if first else "none"))
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


class _Acc:
    __slots__ = ("err2", "ref2", "maxabs", "clipped", "count", "sum", "sum2")

    def __init__(self) -> None:
        self.err2 = self.ref2 = self.maxabs = self.sum = self.sum2 = 0.0
        self.clipped = self.count = 0

    def add(self, q: np.ndarray, f: np.ndarray, lo: float, hi: float) -> None:
        d = q.astype(np.float64) - f.astype(np.float64)
        self.err2 += float(np.sum(d * d))
        self.ref2 += float(np.sum(f.astype(np.float64) ** 2))
        self.maxabs = max(self.maxabs, float(np.max(np.abs(d))) if d.size else 0.0)
        self.clipped += int(np.count_nonzero((f < lo) | (f > hi)))
        self.count += int(f.size)
        self.sum += float(np.sum(f))
        self.sum2 += float(np.sum(f.astype(np.float64) ** 2))

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
    accs: dict[int, _Acc] = {t: _Acc() for t in tmap}
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
            scale=scale, zero_point=zp, clipped=acc.clipped / acc.count, levels=acc.std / scale))
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
        carried = max([accs[int(t)].rel for t in o["inputs"]
                       if int(t) in accs and accs[int(t)].count and _is_activation(qdet[int(t)])] or [0.0])
        carried = carried if np.isfinite(carried) else 0.0
        lo, hi, scale, zp = _qrange(qdet[out])
        layers.append(LayerError(
            node=int(o["index"]), op=o["op_name"], layer=name, tensor=qdet[out]["name"], rel_error=acc.rel,
            carried_in=carried, snr_db=acc.snr_db, max_abs_error=acc.maxabs, scale=scale, zero_point=zp,
            clipped=acc.clipped / acc.count if acc.count else 0.0,
            levels=(acc.std / scale) if scale > 0 else float("inf"),
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


def advise(d: Diagnosis) -> list[str]:
    """Advice that fits the measurements, most specific first."""
    if not d.layers:
        return []
    ranked = d.ranked
    top = ranked[0]
    positive = sum(max(e.added, 0.0) for e in d.layers)
    final = d.layers[-1].rel_error
    advice: list[str] = []
    if final <= d.threshold and top.rel_error <= d.threshold:
        advice.append(f"no layer crosses the threshold ({d.threshold:g}); the largest contribution is {top.layer} "
                      f"({top.added:+.4f}) — nothing to fix")
        return advice
    dominant = positive > 0 and top.added / positive >= 0.5
    if top.clipped > 0.01:
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
    if not dominant:
        advice.append("the error grows over many layers (no single layer adds half of it) — use more calibration "
                      "samples, or quantization-aware training")
    return advice
