"""The shipped MediaPipe-style detectors (examples/face_detector) and synthetic faces to calibrate them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from examples.face_detector import face_model

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "face_detector"
FLOAT = EXAMPLE / "face_detector.tflite"
FP16 = EXAMPLE / "face_detector_fp16.tflite"


def calibration(tmp_path: Path, n: int = 32, seed: int = 1) -> Path:
    x, _, _ = face_model.synthetic_faces(n, seed)
    p = tmp_path / "cal.npz"
    np.savez(p, x=x)
    return p


def run_builtin(content: bytes, x: np.ndarray) -> list[np.ndarray]:
    """Outputs of LiteRT's builtin kernels for one input, in output order (float or int8 as the model has)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=content,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    (inp,) = it.get_input_details()
    it.set_tensor(inp["index"], x.astype(inp["dtype"]))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]
