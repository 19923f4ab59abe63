"""Engines: something that maps a whole dataset through a model, however the outputs are produced.

`validate` talks only to this interface, so the LiteRT interpreter and the exact-integer GPU path
(`edgelift.delegates.gpu.GpuEngine`) are interchangeable:

    engine = make_engine("model.tflite", backend="litert", delegate="builtin")
    raw = engine.predict_raw(x_int8)   # list of arrays, one per model output, samples on the first axis
    out = engine.predict(x_float)      # float in, float out
    engine.describe()                  # one line saying what computed it
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

from ...errors import InvalidArgumentError, RuntimeUnavailableError
from .runner import Runner, load_interpreter

BACKENDS = ("litert", "gpu", "litert-gpu")


class Engine(Protocol):
    input_details: list[dict[str, Any]]
    output_details: list[dict[str, Any]]

    def predict_raw(self, x) -> list[np.ndarray]: ...

    def predict(self, x) -> list[np.ndarray]: ...

    def describe(self) -> str: ...


class LiteRTEngine:
    """A TFLite runtime interpreter (LiteRT or tflite_runtime) with one delegate."""

    def __init__(self, model, delegate: str = "builtin", threads: int = 1,
                 delegate_options: dict[str, Any] | None = None, runtime: str | None = None):
        self.runner: Runner = load_interpreter(model, delegate, threads, delegate_options, runtime)

    @property
    def input_details(self) -> list[dict[str, Any]]:
        return self.runner.input_details

    @property
    def output_details(self) -> list[dict[str, Any]]:
        return self.runner.output_details

    def predict_raw(self, x) -> list[np.ndarray]:
        return self.runner.predict_raw(x)

    def predict(self, x) -> list[np.ndarray]:
        return self.runner.predict(x)

    def describe(self) -> str:
        return self.runner.describe()

    def close(self) -> None:
        self.runner.close()


def model_bytes(model) -> bytes:
    from .runner import model_bytes as read

    return read(model)[0]


def make_engine(model: str | os.PathLike | bytes, backend: str = "litert", delegate: str = "builtin",
                threads: int = 1, batch: int = 32, delegate_options: dict[str, Any] | None = None,
                runtime: str | None = None):
    """An engine over `model` (path or bytes). backend 'litert' (any TFLite runtime), 'gpu' (exact XLA) or
    'litert-gpu' (a float model on LiteRT's own GPU accelerator)."""
    if backend == "litert":
        return LiteRTEngine(model, delegate, threads, delegate_options, runtime)
    if backend == "gpu":
        if not isinstance(batch, int) or batch < 1:
            raise InvalidArgumentError(f"batch must be a whole number >= 1, got {batch!r}")
        try:
            from ...delegates.gpu import GpuEngine
        except ImportError as exc:
            raise RuntimeUnavailableError(
                f"the GPU validation path is not available: {exc}",
                hint="install JAX (pip install 'edgelift[gpu]' for CUDA, or jax for the CPU build)",
            ) from None
        return GpuEngine(model_bytes(model), batch=batch)
    if backend == "litert-gpu":
        from .litert_gpu import LiteRTGpuEngine

        return LiteRTGpuEngine(model)
    raise InvalidArgumentError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}",
                               hint="'litert' runs the TFLite runtime, 'gpu' the exact-integer XLA path, "
                                    "'litert-gpu' a float model on LiteRT's GPU accelerator")
