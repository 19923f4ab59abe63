"""Which TFLite runtime runs a model: LiteRT (`ai_edge_litert`) or `tflite_runtime`, the first importable one
unless `runtime=` names it, with its version."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from ...errors import (
    InvalidArgumentError,
    RuntimeUnavailableError,
)

# preference order: the first importable one is used unless `runtime=` says otherwise
RUNTIMES: dict[str, str] = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
}
_DISTRIBUTIONS = {"litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}


@dataclass(frozen=True)
class RuntimeInfo:
    name: str  # "litert" or "tflite_runtime"
    version: str
    module: ModuleType = field(repr=False, compare=False)

    def __str__(self) -> str:
        return f"{_DISTRIBUTIONS.get(self.name, self.name)} {self.version}"


def _import_runtime(name: str) -> ModuleType | None:
    import importlib

    try:
        return importlib.import_module(RUNTIMES[name])
    except ImportError:
        return None


def _version_of(name: str, module: ModuleType) -> str:
    try:
        from importlib.metadata import version

        return version(_DISTRIBUTIONS[name])
    except Exception:  # noqa: BLE001 - metadata is optional (vendored runtimes)
        top = __import__(module.__name__.split(".")[0])
        return str(getattr(top, "__version__", "unknown"))


def available_runtimes() -> list[str]:
    """Names of the TFLite runtimes importable here, in preference order."""
    return [name for name in RUNTIMES if _import_runtime(name) is not None]


def get_runtime(runtime: str | None = None) -> RuntimeInfo:
    """The runtime to use: `runtime` by name, else the first of `RUNTIMES` that imports."""
    if runtime is not None and runtime not in RUNTIMES:
        raise InvalidArgumentError(
            f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}",
            hint="leave it out to use the first one installed",
        )
    for name in [runtime] if runtime else list(RUNTIMES):
        module = _import_runtime(name)
        if module is not None:
            return RuntimeInfo(name, _version_of(name, module), module)
    wanted = runtime or " or ".join(RUNTIMES)
    raise RuntimeUnavailableError(
        f"no TFLite runtime importable (tried {wanted})",
        hint="pip install ai-edge-litert (desktop) or tflite-runtime (Raspberry Pi OS)",
    )
