"""The exact-integer GPU validation path: a .tflite lowered to one jit-compiled JAX function.

    from edgelift.delegates.gpu import GpuEngine
    eng = GpuEngine("model.tflite", batch=32)   # CUDA when JAX sees a GPU, the CPU otherwise
    outs = eng.predict_raw(x_int8)              # bit-exact with LiteRT's builtin int8 kernels

JAX is imported only when an engine is built (`pip install edgelift[gpu]` for CUDA).
"""

from __future__ import annotations

__all__ = ["GpuEngine", "lower", "Lowered"]


def __getattr__(name):
    if name == "GpuEngine":
        from .engine import GpuEngine

        return GpuEngine
    if name in ("lower", "Lowered"):
        from . import lowering

        return getattr(lowering, name)
    raise AttributeError(name)
