"""The report's prediction of which pruned CONV_2D / FULLY_CONNECTED layers of the emitted .tflite the NEON
delegate will run block-sparse on a Pi 4 / Pi 5, and the warning that names the pruned layers that stay dense
on the target.

The density and the boards are `inspect`'s (which asks `edgelift.delegates.neon.sparse_rule.predict`, the twin
of the delegate's sparse=auto rule); this module only picks the pruned layers, explains each dense verdict with
the rule's own terms and words the summary.
"""

from __future__ import annotations

from typing import Any

from edgelift.delegates.neon import sparse_rule
from edgelift.tflite_model import TFLiteModel

from .target import BOARD_NAMES, boards, default_block, kernel_skips


def _why_dense(board: str, density: float, k: int, m: int, minus128: bool = False) -> str:
    u = sparse_rule.KERNELS[board]
    if k > u.max_k:
        return f"k={k} is deeper than the kernel's {u.max_k}"
    if minus128 and u.no_minus128:
        return "a weight is -128, outside the [-127, 127] the kernel's int16 pairs hold"
    line = u.break_even_density - u.break_even_k / k
    waste = -(-m // u.rows) * u.rows / m if m > 0 else 1.0
    if line <= 0:
        return f"k={k} is too shallow to repay the sparse kernel's per-output cost"
    tile = f" x {waste:.2f} ({m} row{'' if m == 1 else 's'} in {u.rows}-row tiles)" if waste > 1.0 else ""
    return f"block density {density:.2f}{tile} is above the break-even {line:.2f} at k={k}"


def predict(weights: list[dict[str, Any]], model: TFLiteModel, prune: dict[str, Any] | None,
            target: str | None, quantize: str = "int8") -> dict[str, Any]:
    """The report's `sparse_prediction`: per pruned layer found in the .tflite, its 16x4 block density and, per
    board, whether it runs sparse (and why not), plus counts per board."""
    names = boards(target)
    by_tensor = {w["tensor"]: w for w in weights}
    layers = []
    for entry in (prune or {}).get("layers", []):
        w, minus128 = by_tensor.get(entry.get("tensor")), False
        layer: dict[str, Any] = {"layer": entry["layer"], "tensor": None, "op": None, "block_density": None,
                                 "sparse_on": []}
        if w is None:
            why = "not found as one CONV_2D / FULLY_CONNECTED weight in the .tflite"
        elif quantize != "int8" or "block_density" not in w:  # the sparse kernels are int8 x int8
            why = f"--quantize {quantize}: the sparse kernels run int8 layers (--quantize int8)"
        else:
            op = model.operators[w["op_index"]]
            k, m = sparse_rule.gemm_shape(op.op_name, list(w["shape"]), list(model.tensors[op.inputs[0]].shape),
                                          list(model.tensors[op.outputs[0]].shape))
            layer.update(op_index=w["op_index"], k=k, m=m, block_density=w["block_density"],
                         sparse_on=[b for b in w["sparse_on"] if b in names])
            data = model.tensors[op.inputs[1]].data
            minus128 = data is not None and bool((data == -128).any())
            why = None
        if w is not None:
            layer.update(tensor=w["tensor"], op=w["op"])
        layer["dense_because"] = {b: why or _why_dense(b, layer["block_density"], layer["k"], layer["m"], minus128)
                                  for b in names if b not in layer["sparse_on"]}
        layers.append(layer)
    return {"rule": "edgelift.delegates.neon.sparse_rule (the NEON delegate's sparse=auto rule)",
            "target": target, "boards": names, "layers": layers,
            "summary": {b: {"sparse": sum(b in layer["sparse_on"] for layer in layers), "layers": len(layers)}
                        for b in names}}


def summary_line(pred: dict[str, Any]) -> str:
    """'2 of 3 pruned layers will run block-sparse on a Pi 4[, 0 of 3 on a Pi 5]'."""
    counts = [(pred["summary"][b], BOARD_NAMES[b]) for b in pred["boards"]]
    (first, board), rest = counts[0], counts[1:]
    if first["layers"] == 0:
        return f"no pruned CONV_2D / FULLY_CONNECTED layers: every layer runs dense on a {board}" + "".join(
            f" and a {b}" for _, b in rest)
    return (f"{first['sparse']} of {first['layers']} pruned layers will run block-sparse on a {board}"
            + "".join(f", {c['sparse']} of {c['layers']} on a {b}" for c, b in rest)
            + " (NEON delegate)")


def layer_lines(pred: dict[str, Any]) -> list[str]:
    """One line per pruned layer: '  c2 CONV_2D k=72: block density 0.25, sparse on Pi 4; dense on Pi 5'."""
    out = []
    for layer in pred["layers"]:
        if layer["block_density"] is None:
            out.append(f"  {layer['layer']}: dense, {next(iter(layer['dense_because'].values()))}")
            continue
        verdicts = [f"{'sparse' if b in layer['sparse_on'] else 'dense'} on {BOARD_NAMES[b]}" for b in pred["boards"]]
        out.append(f"  {layer['layer']} {layer['op']} k={layer['k']}: block density {layer['block_density']:.2f}, "
                   + "; ".join(verdicts))
    return out


def dense_warning(pred: dict[str, Any], kind: str | None, block: tuple[int, int] | None) -> str | None:
    """With a target: one message naming the pruned layers that will run dense there (and why), or None."""
    target = pred["target"]
    if target is None or not pred["layers"]:
        return None
    dense = [layer for layer in pred["layers"] if target not in layer["sparse_on"]]
    if not dense:
        return None
    board = BOARD_NAMES[target]
    reasons = {layer["dense_because"][target] for layer in dense}
    if len(reasons) == 1 and len(dense) > 1:  # one cause (float weights, a shallow model): say it once
        named = f"{', '.join(repr(layer['layer']) for layer in dense)} ({reasons.pop()})"
    else:
        named = "; ".join(f"{layer['layer']!r} ({layer['dense_because'][target]})" for layer in dense)
    msg = f"{len(dense)} of {len(pred['layers'])} pruned layers will run dense on a {board}: {named}"
    if all(layer["block_density"] is not None for layer in dense):  # int8 layers: say what to prune instead
        if kind != "block":
            msg += (f"; --prune-kind {kind} zeros are not skipped by the {board}'s sparse kernel: use "
                    f"--prune-kind block")
        elif block is not None and not kernel_skips(block, target):
            want = default_block(target)
            msg += (f"; --block {block[0]}x{block[1]} is not made of the {want} blocks (output x consecutive input "
                    f"channels) the {board}'s sparse kernel skips: use --block {want}, or a multiple of it")
    return msg
