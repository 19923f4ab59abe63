"""Pi cost without a Pi: instruction-exact counts and estimated cycles of whole models on an emulated Raspberry Pi.

    from edgelift.device.emulate import emulate_bench
    print(emulate_bench("model.tflite", board="rpi4", delegates="neon,xnnpack,builtin").format())

The same through the CLI: `edgelift bench model.tflite --emulate rpi4 -d neon,xnnpack,builtin`. Names are
resolved on first use, so `python -m edgelift.device.emulate.pi_root` (and .tools) run without the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"emulate_bench": "meter", "DEFAULT_DELEGATES": "meter", "BOARDS": "boards", "Board": "boards",
         "board": "boards", "EmulatedBench": "result", "DelegateCost": "result"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'edgelift.device.emulate' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
