"""The conversion report: what the user gained (size, sparsity) and what it cost (accuracy).

The .tflite side is read back from the emitted flatbuffer through `edgelift.inspect`, and accuracy of the
.tflite is measured through LiteRT's builtin kernels (`edgelift.device.runtime`), not through Keras.
"""

from __future__ import annotations

import gzip
import hashlib
from typing import Any

import numpy as np

from edgelift.inspection import inspect
from edgelift.tflite_model import load as load_tflite


def _is_classifier(out: np.ndarray, y: np.ndarray | None) -> bool:
    return y is not None and np.issubdtype(y.dtype, np.integer) and out.ndim == 2 and out.shape[1] > 1


def score(pred: np.ndarray, y: np.ndarray) -> dict[str, float] | None:
    """Top-1 accuracy for class-index labels, mean squared error for targets shaped like the output;
    None when the labels do not fit the output (then only agreement with the float model is reported)."""
    pred = np.asarray(pred)
    if _is_classifier(pred, y):
        return {"accuracy": float(np.mean(pred.argmax(axis=1) == y))}
    if pred.ndim == 2 and pred.shape[1] == 1 and np.issubdtype(y.dtype, np.integer):
        threshold = 0.5 if pred.min() >= 0 and pred.max() <= 1 else 0.0  # probabilities or logits
        return {"accuracy": float(np.mean((pred[:, 0] > threshold) == (y > 0)))}
    if y.size == pred.size and np.issubdtype(y.dtype, np.floating):
        return {"mse": float(np.mean((pred.reshape(len(y), -1) - y.reshape(len(y), -1)) ** 2))}
    return None


def keras_predict(model, x: np.ndarray) -> np.ndarray:
    out = model.predict(x, batch_size=256, verbose=0)
    return out[0] if isinstance(out, list) else out


def tflite_predict(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """Float outputs of the .tflite through LiteRT's builtin kernels (inputs quantized as the model says)."""
    from edgelift.device.runtime import load_interpreter

    runner = load_interpreter(tflite, delegate="builtin", threads=1)
    try:
        return runner.predict(x)[0]
    finally:
        runner.close()


def build(*, loaded, final_keras, tflite: bytes, steps: dict[str, Any], output: str,
          accuracy: dict[str, Any] | None, warnings: list[str], seconds: float, params: int | None,
          target: str | None = None) -> dict[str, Any]:
    from .sparse_report import predict as predict_sparse

    info = inspect(tflite)
    m = load_tflite(tflite)
    dtypes: dict[str, int] = {}
    for t in m.tensors:
        dtypes[t.type_name] = dtypes.get(t.type_name, 0) + 1
    float_bytes = 4 * params if params else None
    keras_sparsity = []
    if final_keras is not None:
        for layer in final_keras.layers:
            for w in layer.trainable_weights:
                if len(w.shape) >= 2:
                    a = w.numpy()
                    keras_sparsity.append({"layer": layer.name, "weight": w.name, "shape": list(a.shape),
                                           "sparsity": float(np.count_nonzero(a == 0) / a.size)})
    gz = len(gzip.compress(tflite, compresslevel=9))
    return {
        "output": {"path": output, "size_bytes": len(tflite), "gzip_bytes": gz,
                   "sha256": hashlib.sha256(tflite).hexdigest()},
        "source": {"model": loaded.source, "format": loaded.kind, "keras3": loaded.keras3,
                   "file_bytes": loaded.file_bytes, "params": params},
        "size": {
            "before_float32_weight_bytes": float_bytes,
            "after_tflite_bytes": len(tflite),
            "after_gzip_bytes": gz,
            "ratio": (float_bytes / len(tflite)) if float_bytes else None,
            "note": "before = parameters x 4 bytes (float32); gzip shows what pruning saves on disk/over the wire",
        },
        "steps": steps,
        "sparsity": {
            "weight_sparsity": info["weight_sparsity"],
            "tflite_weights": [{k: w[k] for k in ("tensor", "op", "shape", "dtype", "sparsity", "structure")}
                               for w in info["weights"]],
            "keras_layers": keras_sparsity,
        },
        "op_histogram": {o["op"]: o["count"] for o in info["op_histogram"]},
        "op_versions": {o["op"]: o["versions"] for o in info["op_histogram"]},
        "tensor_dtypes": dtypes,
        "inputs": info["inputs"],
        "outputs": info["outputs"],
        "macs": {"total": info["total_macs"],
                 "per_op": [{"op": o["op"], "output": o["output"], "macs": o["macs"]} for o in info["operators"]
                            if o["macs"]]},
        "sparse_prediction": predict_sparse(info["weights"], m, steps.get("prune"), target,
                                            (steps.get("quantize") or {}).get("mode", "int8")),
        "accuracy": accuracy,
        "warnings": warnings,
        "seconds": round(seconds, 2),
    }
