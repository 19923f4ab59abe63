"""What a model is compared with in `validate`: a float .tflite, a Keras model (in memory or a file), or the
same .tflite on another delegate. TensorFlow is imported only for a Keras reference."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import InvalidArgumentError, InvalidModelError, ModelNotFoundError
from ..runtime import model_bytes
from ..runtime.engines import make_engine

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


class TFLiteReference:
    """A .tflite run on a TFLite runtime (float reference, or the same model on another delegate)."""

    kind = "tflite"

    def __init__(self, model, delegate: str, threads: int, runtime: str | None, label: str):
        self.engine = make_engine(model, "litert", delegate, threads, runtime=runtime)
        self.content = model_bytes(model)[0]
        self.label = label
        self.input_details = self.engine.input_details
        self.output_details = self.engine.output_details
        self.is_float = all(np.dtype(d["dtype"]).kind == "f" for d in self.input_details + self.output_details)

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(s) for s in d["shape"][1:]) for d in self.input_details]

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(s) for s in d["shape"][1:]) for d in self.output_details]

    def predict(self, x: list[np.ndarray]) -> list[np.ndarray]:
        return self.engine.predict(x)

    def predict_raw(self, x: list[np.ndarray]) -> list[np.ndarray]:
        return self.engine.predict_raw(x)

    def describe(self) -> str:
        return f"{self.label} ({self.engine.describe()})"

    def float_tflite(self) -> bytes | None:
        return self.content if self.is_float else None


class KerasReference:
    """A tf_keras model; inference through TensorFlow (imported only here)."""

    kind = "keras"

    def __init__(self, model, label: str):
        self.model = model
        self.label = label

    @classmethod
    def load(cls, path: str | os.PathLike) -> KerasReference:
        from ..._tf import keras

        try:
            model = keras().models.load_model(str(path), compile=False)
        except Exception as exc:  # noqa: BLE001 - Keras raises many types for unreadable files
            raise InvalidModelError(
                f"cannot load the Keras reference {str(path)!r}: {type(exc).__name__}: "
                f"{' '.join(str(exc).split())[:300]}",
                hint="pass a .keras / .h5 file or SavedModel folder saved with tf_keras, or a float .tflite",
            ) from None
        return cls(model, str(path))

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(d) if d is not None else -1 for d in t.shape[1:]) for t in self.model.inputs]

    @property
    def output_shapes(self) -> list[tuple[int, ...]]:
        return [tuple(int(d) if d is not None else -1 for d in t.shape[1:]) for t in self.model.outputs]

    def predict(self, x: list[np.ndarray], batch: int = 64) -> list[np.ndarray]:
        n = x[0].shape[0]
        chunks: list[list[np.ndarray]] = []
        for s in range(0, n, batch):
            args = [a[s:s + batch].astype(np.float32) for a in x]
            out = self.model(args if len(args) > 1 else args[0], training=False)
            outs = out if isinstance(out, (list, tuple)) else [out]
            chunks.append([np.asarray(o) for o in outs])
        return [np.concatenate([c[i] for c in chunks], axis=0) for i in range(len(chunks[0]))]

    def describe(self) -> str:
        return f"Keras model {self.label}"

    def float_tflite(self) -> bytes:
        from ..._tf import tensorflow

        return tensorflow().lite.TFLiteConverter.from_keras_model(self.model).convert()


def _is_keras_object(obj) -> bool:
    return hasattr(obj, "inputs") and hasattr(obj, "outputs") and callable(obj) and hasattr(obj, "layers")


def load_reference(reference, reference_delegate: str | None, model, threads: int, runtime: str | None):
    if reference is None:
        if reference_delegate is None:
            raise InvalidArgumentError(
                "no reference given: pass a reference model or a reference delegate",
                hint="--reference model.keras | float.tflite, or --reference-delegate builtin to compare the same "
                     ".tflite on another delegate",
            )
        return TFLiteReference(model, reference_delegate, threads, runtime, "the same model")
    if _is_keras_object(reference):
        return KerasReference(reference, getattr(reference, "name", "in-memory"))
    if isinstance(reference, (bytes, bytearray, memoryview)):
        return TFLiteReference(bytes(reference), reference_delegate or "builtin", threads, runtime, "reference bytes")
    p = Path(reference)
    if not p.exists():
        raise ModelNotFoundError(f"reference {str(p)!r} does not exist",
                                 hint="pass a Keras model (.keras, .h5, SavedModel folder) or a .tflite")
    if p.is_dir() or p.suffix.lower() in KERAS_SUFFIXES:
        if reference_delegate is not None:
            raise InvalidArgumentError(
                f"--reference-delegate {reference_delegate!r} applies to .tflite references; {str(p)!r} is Keras",
                hint="leave --reference-delegate out")
        return KerasReference.load(p)
    head = p.read_bytes()[:8]
    if head[4:8] == b"TFL3":
        return TFLiteReference(p, reference_delegate or "builtin", threads, runtime, str(p))
    raise InvalidModelError(
        f"reference {str(p)!r} is neither a .tflite (no 'TFL3' identifier) nor a Keras file "
        f"(suffix {p.suffix or '(none)'!r}; allowed {', '.join(KERAS_SUFFIXES)} or a SavedModel folder)",
        hint="pass the Keras model the .tflite came from, or its float .tflite",
    )
