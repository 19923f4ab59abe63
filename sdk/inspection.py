"""`edgelift inspect`: what is inside a .tflite — ops (custom ones marked), I/O, weights (int8, fp16 behind
DEQUANTIZE, TFLite's sparse format, stored after the flatbuffer) with sparsity and structure, sizes, MACs
(None / "unknown" for custom ops whose work is not known, never 0)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .tflite_model import Operator, Tensor, TFLiteModel, load

# Weight operand (input index) of ops whose constant weights we analyse for sparsity.
_WEIGHT_INPUT = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "FULLY_CONNECTED": 1, "TRANSPOSE_CONV": 1,
                 "CONV_3D": 1, "BATCH_MATMUL": 1}
# Block shapes (rows over output channels, columns over input channels) tried for block structure.
_BLOCK_SHARE = 0.9  # share of all zeros that must lie in whole-zero blocks to call it block structure
_BLOCKS = [(1, 16), (4, 4), (1, 8), (8, 1), (2, 4), (4, 2), (1, 4), (4, 1), (2, 2), (1, 2), (2, 1)]


def _prod(shape) -> int:
    return int(np.prod(shape)) if len(shape) else 1


# Custom ops whose work is known: MediaPipe's transposed convolution with bias (inputs, weights [O, KH, KW, I],
# bias) computes what TRANSPOSE_CONV does. Any other custom op has unknown MACs, never 0.
_CUSTOM_AS = {"Convolution2DTransposeBias": "TRANSPOSE_CONV_BIAS"}


def macs_of(model: TFLiteModel, op: Operator) -> int | None:
    """Multiply-accumulates of one op: 0 for ops that are not matrix/convolution work, None when unknown
    (a custom op whose computation edgelift does not know)."""
    t = model.tensors
    out = t[op.outputs[0]].shape if op.outputs else ()
    name = op.op_name
    if op.is_custom:
        name = _CUSTOM_AS.get(name)
        if name is None:
            return None
    if name == "TRANSPOSE_CONV_BIAS":
        w = t[op.inputs[1]].shape  # [O, KH, KW, I]; input 0 is the activation
        return _prod(t[op.inputs[0]].shape) * w[0] * w[1] * w[2] if len(w) == 4 else None
    if name == "CONV_2D":
        w = t[op.inputs[1]].shape  # [O, KH, KW, I]
        return _prod(out) * w[1] * w[2] * w[3]
    if name == "DEPTHWISE_CONV_2D":
        w = t[op.inputs[1]].shape  # [1, KH, KW, O]
        return _prod(out) * w[1] * w[2]
    if name == "FULLY_CONNECTED":
        w = t[op.inputs[1]].shape  # [O, I]
        return _prod(out) * w[-1]
    if name == "TRANSPOSE_CONV":
        w = t[op.inputs[1]].shape  # [O, KH, KW, I]
        inp = t[op.inputs[2]].shape
        return _prod(inp) * w[0] * w[1] * w[2]
    if name == "BATCH_MATMUL":
        a = t[op.inputs[0]].shape
        return _prod(out) * (a[-1] if a else 1)
    return 0


def block_structure(w: np.ndarray, op_name: str) -> str | None:
    """Name the coarsest pattern the zeros of `w` follow: 'R x C blocks' or 'N:M', else None.

    The matrix view puts output channels on rows and the reduction (input channels) on columns, so a
    pattern found here is one a kernel can use to skip work.
    """
    if w.ndim < 2 or not np.any(w == 0):
        return None
    if op_name == "DEPTHWISE_CONV_2D":  # [1, KH, KW, C]: channels are independent
        mat = w.reshape(-1, w.shape[-1]).T
    else:  # [O, ..., I]
        mat = w.reshape(-1, w.shape[-1]) if op_name in ("CONV_2D", "TRANSPOSE_CONV") else w.reshape(w.shape[0], -1)
    zero = mat == 0
    for r, c in _BLOCKS:
        rows, cols = zero.shape
        if rows % r or cols % c or (r, c) == (1, 1):
            continue
        blocks = zero.reshape(rows // r, r, cols // c, c).transpose(0, 2, 1, 3).reshape(rows // r, cols // c, -1)
        all_zero = blocks.all(axis=-1)
        # int8 rounding adds a few stray zeros outside the pruned blocks; the pattern holds when the
        # whole-zero blocks carry nearly all zeros.
        if all_zero.any() and all_zero.sum() * r * c >= _BLOCK_SHARE * zero.sum():
            return f"{r}x{c} blocks"
    cols = zero.shape[1]
    if cols % 4 == 0:
        groups = zero.reshape(zero.shape[0], cols // 4, 4).sum(axis=-1)
        if (groups >= 2).all():
            return "2:4"
    return None


def _sparse_prediction(m: TFLiteModel, op: Operator, w: np.ndarray | None) -> dict[str, Any]:
    """The NEON delegate's per-layer sparse choice on a Pi 4 / Pi 5 (edgelift.delegates.neon.sparse_rule)."""
    from edgelift.delegates.neon import sparse_rule

    if w is None or op.op_name not in ("CONV_2D", "FULLY_CONNECTED") or op.inputs[0] < 0 or not op.outputs:
        return {}
    p = sparse_rule.predict(op.op_name, w, m.tensors[op.inputs[0]].shape, m.tensors[op.outputs[0]].shape)
    return p or {}


def _quant(t: Tensor) -> dict[str, Any] | None:
    if not t.is_quantized:
        return None
    q: dict[str, Any] = {"scale": [float(s) for s in t.scales[:8]], "zero_point": [int(z) for z in t.zero_points[:8]]}
    if t.per_channel:
        q["per_channel"] = True
        q["channels"] = int(t.scales.size)
        q["quantized_dimension"] = t.quantized_dimension
    return q


def _io(t: Tensor) -> dict[str, Any]:
    return {"name": t.name, "index": t.index, "shape": list(t.shape), "dtype": t.type_name, "quantization": _quant(t)}


def _weight_source(m: TFLiteModel, t: Tensor) -> Tensor:
    """The constant a weight operand comes from: itself, or the input of the DEQUANTIZE (fp16 weights) or
    DENSIFY (sparse weights) op that produces it at load time."""
    for _ in range(3):
        if t.data is not None:
            return t
        producer = next((op for op in m.operators if t.index in op.outputs), None)
        if producer is None or producer.op_name not in ("DEQUANTIZE", "DENSIFY") or not producer.inputs:
            return t
        t = m.tensors[producer.inputs[0]]
    return t


def _weight_entry(m: TFLiteModel, op: Operator, t: Tensor) -> dict[str, Any]:
    from .tflite_sparse import densify, layout

    data = t.data
    elements = _prod(t.shape)
    entry: dict[str, Any] = {"tensor": t.name, "index": t.index, "op": op.op_name, "op_index": op.index,
                             "shape": list(t.shape), "dtype": t.type_name, "bytes": t.nbytes, "sparse": None}
    dense = data.reshape(t.shape) if data.size == elements else None
    if t.sparsity is not None:
        lay = layout(t.sparsity, t.shape, int(data.size))
        dense = densify(t.sparsity, t.shape, data)
        entry["sparse"] = {"format": lay.formats, "traversal_order": lay.traversal_order,
                           "block_map": lay.block_map, "block": lay.block_dims(len(t.shape)),
                           "stored_values": lay.stored_values, "density": lay.density,
                           "index_bytes": lay.index_bytes, "describe": lay.describe(len(t.shape))}
        zeros = elements - int(np.count_nonzero(data))  # values left out, plus zeros stored inside blocks
    else:
        zeros = int(np.count_nonzero(data == 0))
    entry.update(elements=elements, zeros=zeros, sparsity=zeros / max(elements, 1),
                 structure=block_structure(dense, op.op_name) if dense is not None else None,
                 **_sparse_prediction(m, op, dense))
    return entry


def inspect(model: str | os.PathLike | bytes | TFLiteModel) -> dict[str, Any]:
    """Describe a .tflite model. Returns a JSON-serialisable dict (the schema of `edgelift inspect --json`)."""
    m = load(model)
    ops = []
    for op in m.operators:
        ops.append({"index": op.index, "op": op.op_name, "version": op.version, "custom": op.is_custom,
                    "macs": macs_of(m, op), "output": m.tensors[op.outputs[0]].name if op.outputs else None})
    custom_names = {op.op_name for op in m.operators if op.is_custom}
    versions: dict[str, set[int]] = {}
    for op in m.operators:
        versions.setdefault(op.op_name, set()).add(op.version)
    hist = m.op_histogram()

    weights = []
    weight_tensor_ids = set()
    for op in m.operators:
        idx = _WEIGHT_INPUT.get(op.op_name)
        if idx is None or idx >= len(op.inputs) or op.inputs[idx] < 0:
            continue
        t = _weight_source(m, m.tensors[op.inputs[idx]])
        if t.data is None or t.index in weight_tensor_ids:
            continue
        weight_tensor_ids.add(t.index)
        weights.append(_weight_entry(m, op, t))

    by_dtype: dict[str, int] = {}
    constant_bytes = 0
    for t in m.tensors:
        if t.data is not None:
            by_dtype[t.type_name] = by_dtype.get(t.type_name, 0) + t.nbytes
            constant_bytes += t.nbytes
    weight_bytes = sum(w["bytes"] for w in weights)
    index_bytes = sum(w["sparse"]["index_bytes"] for w in weights if w["sparse"])
    total = len(m.content)
    total_weight_elems = sum(w["elements"] for w in weights)
    unknown = [o for o in ops if o["macs"] is None]
    return {
        "path": m.path,
        "size_bytes": total,
        "subgraphs": m.num_subgraphs,
        "inputs": [_io(t) for t in m.input_tensors],
        "outputs": [_io(t) for t in m.output_tensors],
        "op_histogram": [{"op": k, "count": v, "versions": sorted(versions[k]), "custom": k in custom_names}
                         for k, v in hist.items()],
        "operators": ops,
        "custom_ops": sorted(custom_names),
        # the MACs of the ops that are known; macs_unknown_ops counts the others (the total is then a floor)
        "total_macs": int(sum(o["macs"] for o in ops if o["macs"] is not None)),
        "macs_unknown_ops": len(unknown),
        "weights": weights,
        "weight_sparsity": (sum(w["zeros"] for w in weights) / total_weight_elems) if total_weight_elems else 0.0,
        "size_breakdown": {
            "weights": weight_bytes,
            "sparse_indices": index_bytes,  # inside the flatbuffer, so taken out of the graph's share
            "other_constants": constant_bytes - weight_bytes,
            "graph_and_metadata": total - constant_bytes - index_bytes,
            "external_buffers": m.external_buffer_bytes,  # part of weights/constants, stored after the flatbuffer
            "constants_by_dtype": by_dtype,
        },
    }


def _human(n: float) -> str:
    for unit in ("", "K", "M", "G"):
        if abs(n) < 1000:
            return f"{n:.0f}{unit}" if unit == "" else f"{n:.2f}{unit}"
        n /= 1000
    return f"{n:.2f}T"


def format_text(info: dict[str, Any]) -> str:
    """The human-readable form printed by `edgelift inspect`."""
    lines = []
    sb = info["size_breakdown"]
    macs = _human(info["total_macs"])
    if info["macs_unknown_ops"]:
        macs = (f"MACs unknown ({info['macs_unknown_ops']} custom ops)" if info["total_macs"] == 0 else
                f"at least {macs} MACs ({info['macs_unknown_ops']} custom ops unknown)")
    else:
        macs += " MACs"
    lines.append(f"{info['path'] or '<bytes>'}: {info['size_bytes']:,} bytes, {len(info['operators'])} ops, "
                 f"{macs}, weight sparsity {info['weight_sparsity']:.1%}")
    extra = f", sparse indices {sb['sparse_indices']:,} B" if sb.get("sparse_indices") else ""
    if sb.get("external_buffers"):
        extra += f" ({sb['external_buffers']:,} B of constants stored after the flatbuffer)"
    lines.append(f"size: weights {sb['weights']:,} B, other constants {sb['other_constants']:,} B, "
                 f"graph+metadata {sb['graph_and_metadata']:,} B{extra}")
    if info.get("custom_ops"):
        lines.append(f"custom ops: {', '.join(info['custom_ops'])} (no builtin kernel; a runtime needs them "
                     "registered)")
    for kind in ("inputs", "outputs"):
        for t in info[kind]:
            q = t["quantization"]
            qs = f" scale={q['scale'][0]:.6g} zero_point={q['zero_point'][0]}" if q else ""
            lines.append(f"{kind[:-1]:>6}: {t['name']} {t['dtype']} {t['shape']}{qs}")
    lines.append("")
    lines.append(f"{'op':<24}{'count':>6}  versions")
    for row in info["op_histogram"]:
        lines.append(f"{row['op']:<24}{row['count']:>6}  {','.join(map(str, row['versions']))}"
                     f"{'  (custom)' if row.get('custom') else ''}")
    if info["weights"]:
        lines.append("")
        pruned = any(w.get("block_density", 1.0) < 1.0 for w in info["weights"])
        lines.append(f"{'weight tensor':<44}{'op':<20}{'shape':<18}{'dtype':<8}{'bytes':>8}{'sparsity':>9}  structure"
                     + ("  (16x4 block density; NEON delegate runs it sparse on)" if pruned else ""))
        for w in info["weights"]:
            name = w["tensor"] if len(w["tensor"]) <= 42 else "…" + w["tensor"][-41:]
            structure = w["structure"] or "-"
            if w.get("sparse"):
                structure = f"{structure}; {w['sparse']['describe']}"
            if pruned and "block_density" in w:
                structure += f"  ({w['block_density']:.2f}; {', '.join(w['sparse_on']) or 'dense everywhere'})"
            lines.append(f"{name:<44}{w['op']:<20}{'x'.join(map(str, w['shape'])):<18}{w['dtype']:<8}"
                         f"{w['bytes']:>8,}{w['sparsity']:>9.1%}  {structure}")
        if pruned:
            on = {b: sum(b in w.get("sparse_on", []) for w in info["weights"]) for b in ("rpi4", "rpi5")}
            lines.append(f"block-sparse layers (NEON delegate, sparse=auto): {on['rpi4']} on a Pi 4, "
                         f"{on['rpi5']} on a Pi 5")
    lines.append("")
    names = [f"{o['op']} (custom)" if o.get("custom") else o["op"] for o in info["operators"]]
    width = max([22, *(len(n) + 1 for n in names)])
    lines.append(f"{'#':>4}  {'op':<{width}}{'MACs':>10}  output")
    for o, op in zip(info["operators"], names, strict=True):
        macs = "unknown" if o["macs"] is None else _human(o["macs"])
        lines.append(f"{o['index']:>4}  {op:<{width}}{macs:>10}  {o['output']}")
    return "\n".join(lines)
