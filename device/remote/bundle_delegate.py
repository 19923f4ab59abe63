"""Which delegate a bundle's model runs with on the device, and how closely its self-check must match.

An integer (int8/int16 activations) model runs with edgelift's NEON delegate, which is bit-exact with LiteRT's
builtin kernels: its integer outputs must match the desktop reference bit for bit. A float model (fp32, fp16
weights, dynamic-range int8 weights) gets nothing from our delegate (it claims integer nodes only) and runs with
XNNPACK, the runtime's own float delegate, which sums in another order than the builtin kernels and uses FMA on
ARM: its outputs are compared within a tolerance derived from the model's own outputs and recorded in the
manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError

DEVICE_DELEGATES = ("auto", "neon", "xnnpack")
# The derived tolerance of a float output: this share of the output's largest magnitude on the reference input
# (about 10 bits of it). Float32 kernels that only sum in another order differ by far less; a wrong model,
# runtime or corrupted weight by far more.
RELATIVE_TOLERANCE = 1e-3
# ... and at least this many times what XNNPACK differs from the builtin kernels on the desktop, on that input.
DESKTOP_XNNPACK_MARGIN = 8.0
# For an integer output checked against XNNPACK (an int8 model bundled with --device-delegate xnnpack): XNNPACK
# rounds some ties differently from the builtin kernels, one quantization step.
INTEGER_STEP_TOLERANCE = 1.0
INTEGER_TENSOR_TYPES = ("INT8", "UINT8", "INT16")


def is_integer_model(content: bytes | Path) -> bool:
    """True when some operator computes an integer-quantized tensor (what our delegate can take)."""
    from ...tflite_model import load

    model = load(content)  # a path: an inconsistent file is refused by its name
    for op in model.operators:
        if op.op_name in ("QUANTIZE", "DEQUANTIZE"):
            continue  # a float model's fp16 weights are DEQUANTIZEd; int8 boundaries alone prove nothing
        for i in op.outputs:
            t = model.tensors[i]
            if t.type_name in INTEGER_TENSOR_TYPES and t.is_quantized:
                return True
    return False


def choose(model: Path, requested: str) -> str:
    """'neon' or 'xnnpack' for the model (requested 'auto'), or the user's choice once checked."""
    if requested not in DEVICE_DELEGATES:
        raise InvalidArgumentError(f"unknown device delegate {requested!r}; allowed: {', '.join(DEVICE_DELEGATES)}",
                                   hint="auto picks neon for int8 models and xnnpack for float ones")
    if requested != "auto":
        return requested
    return "neon" if is_integer_model(model) else "xnnpack"


def check_atol(atol: float | None) -> float | None:
    if atol is None:
        return None
    if isinstance(atol, bool) or not isinstance(atol, (int, float)) or not atol >= 0 or atol == float("inf"):
        raise InvalidArgumentError(f"--self-check-atol must be a finite number >= 0, got {atol!r}",
                                   hint="e.g. --self-check-atol 0.01 (an absolute difference in output units)")
    return float(atol)


def desktop_xnnpack_outputs(model: Path, inputs: list) -> list | None:
    """The model's outputs with the desktop's XNNPACK (LiteRT's default delegates) on `inputs`; None when it
    cannot run so (the builtin reference still can: the derived tolerance then rests on the range alone)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_path=str(model))
        interp.allocate_tensors()
        for d, x in zip(interp.get_input_details(), inputs, strict=True):
            interp.set_tensor(d["index"], x)
        interp.invoke()
    except (ValueError, RuntimeError):
        return None
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def tolerances(kind: str, outputs: list, xnnpack_outputs: list | None,
               atol: float | None) -> tuple[bool, list[float], str]:
    """(exact, one tolerance per output, how they were chosen) for a bundle whose device runs `kind`."""
    import numpy as np

    integer = all(np.asarray(o).dtype.kind in "iub" for o in outputs)
    if kind == "neon" and integer:
        if atol is not None:
            raise InvalidArgumentError(
                f"--self-check-atol {atol:g} given for an integer model that runs with edgelift's NEON delegate, "
                "which the self-check holds to bit-exact outputs",
                hint="leave --self-check-atol out (it applies to float outputs, e.g. with --device-delegate xnnpack)")
        return True, [0.0] * len(outputs), "bit for bit (integer outputs, edgelift's NEON delegate)"
    if atol is not None:
        return False, [atol] * len(outputs), f"--self-check-atol {atol:g}"
    result = []
    for i, ref in enumerate(outputs):
        ref = np.asarray(ref)
        if ref.dtype.kind in "iub":
            result.append(INTEGER_STEP_TOLERANCE)
            continue
        values = ref.astype(np.float64)
        finite = values[np.isfinite(values)]
        magnitude = float(np.max(np.abs(finite))) if finite.size else 0.0
        tol = RELATIVE_TOLERANCE * magnitude if magnitude > 0 else RELATIVE_TOLERANCE
        if xnnpack_outputs is not None:
            seen = np.abs(np.asarray(xnnpack_outputs[i]).astype(np.float64) - values)
            seen = seen[np.isfinite(seen)]
            if seen.size:
                tol = max(tol, DESKTOP_XNNPACK_MARGIN * float(seen.max()))
        result.append(float(f"{tol:.3g}"))
    how = (f"derived: {RELATIVE_TOLERANCE:g} of each float output's largest magnitude on the reference input, at "
           f"least {DESKTOP_XNNPACK_MARGIN:g}x the desktop's XNNPACK-vs-builtin difference"
           + (f"; integer outputs within {INTEGER_STEP_TOLERANCE:g} step" if not integer else ""))
    return False, result, how


def manifest_entry(kind: str, lib_file: str | None, arch: str, options: dict[str, Any]) -> dict[str, Any]:
    if kind == "neon":
        return {"kind": "neon", "file": lib_file, "arch": arch, "options": options}
    return {"kind": "xnnpack", "arch": arch, "options": {},
            "note": "the runtime's own XNNPACK delegate (float model: edgelift's NEON delegate takes integer nodes)"}
