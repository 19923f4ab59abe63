"""edgelift: take a trained Keras model to a Raspberry Pi, and prove it computes what you validated.

The public API is imported lazily so that `import edgelift` stays cheap and never pulls TensorFlow in:

    edgelift.convert(...)    Keras model -> optimized .tflite + report      (edgelift.converters)
    edgelift.inspect(...)    what is inside a .tflite                       (edgelift.inspection)
    edgelift.bench(...)      latency per delegate, side by side             (edgelift.device)
    edgelift.validate(...)   compare with a reference, per-layer diagnosis  (edgelift.device)
    edgelift.bundle(...)     self-contained folder for a Raspberry Pi       (edgelift.device)
    edgelift.deploy(...)     install it over SSH, verified                  (edgelift.device)
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import EdgeliftError

__version__ = "0.1.0"

# public name -> "module:attribute", resolved on first use
_LAZY = {
    "convert": "edgelift.converters.pipeline:convert",
    "ConvertOptions": "edgelift.converters.convert_options:ConvertOptions",
    "inspect": "edgelift.inspection:inspect",
    "bench": "edgelift.device.checking.bench:bench",
    "BenchOptions": "edgelift.device.bench_options:BenchOptions",
    "validate": "edgelift.device.checking.validate:validate",
    "ValidateOptions": "edgelift.device.checking.validate_options:ValidateOptions",
    "bundle": "edgelift.device.remote.bundle:bundle",
    "deploy": "edgelift.device.remote.api:deploy",
    "DeployOptions": "edgelift.device.remote.deploy_options:DeployOptions",
    "rollback": "edgelift.device.remote.api:rollback",
    "Connection": "edgelift.device.remote.ssh:Connection",
}

__all__ = ["EdgeliftError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'edgelift' has no attribute {name!r}")
    module, attr = _LAZY[name].split(":")
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
