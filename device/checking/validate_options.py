"""`ValidateOptions`: every setting of `edgelift validate`, checked once when it is built.

The CLI and the Python API (`edgelift.validate(..., options=...)` or its keywords) build one, so a NaN
threshold, a negative sample count or an unwritable report folder is refused with the same line from either,
before any model is loaded. What needs the command's inputs (a report path equal to the model) is checked by
`check_inputs`, also before any work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ... import option_checks as check
from ...errors import InvalidArgumentError
from ..runtime import check_delegate_name

BACKENDS = ("litert", "gpu", "litert-gpu")
DELEGATES_WITHOUT_OPTIONS = ("builtin", "xnnpack")


@dataclass(frozen=True)
class ValidateOptions:
    """Thresholds: `atol` (max abs error, every output), `min_agreement` (top-1, 0..1 or '99%'),
    `max_accuracy_drop` (reference accuracy minus model accuracy, 0..1; needs labels), `exact` (bit for bit,
    up to `max_lsb`). `check`: raise ThresholdError when one is missed. `batch`: samples per GPU-backend call.
    Fractions given as '99%' are stored as 0.99."""

    delegate: str = "builtin"
    reference_delegate: str | None = None
    delegate_options: dict[str, Any] | None = None
    samples: int | None = None
    atol: float | None = None
    min_agreement: float | str | None = None
    max_accuracy_drop: float | str | None = None
    exact: bool = False
    max_lsb: int = 0
    per_layer: bool = False
    layer_threshold: float | None = None
    report: str | os.PathLike | None = None
    threads: int = 1
    backend: str = "litert"
    runtime: str | None = None
    seed: int = 0
    check: bool = True
    batch: int = 32
    # the values as the user wrote them ('99%'), for messages that quote them
    given: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        from ..runtime.selection import RUNTIMES

        def put(name, value):
            object.__setattr__(self, name, value)

        put("given", {"min_agreement": self.min_agreement, "max_accuracy_drop": self.max_accuracy_drop})
        put("samples", check.optional_whole("samples", self.samples, 1, "--samples 200"))
        put("batch", check.whole("batch", self.batch, 1, "--batch 32"))
        put("threads", check.whole("threads", self.threads, 1, "--threads 4"))
        put("seed", check.whole("seed", self.seed, 0, "seed=0"))
        put("atol", check.optional_finite("atol", self.atol, 0.0, example="--atol 0.05"))
        put("min_agreement", check.fraction("min_agreement", self.min_agreement))
        put("max_accuracy_drop", check.fraction("max_accuracy_drop", self.max_accuracy_drop))
        put("max_lsb", check.whole("max_lsb", self.max_lsb, 0, "--max-lsb 1"))
        put("layer_threshold", check.optional_finite("layer_threshold", self.layer_threshold, 0.0,
                                                     inclusive=False, example="--layer-threshold 0.1"))
        for name in ("exact", "per_layer", "check"):
            check.flag(name, getattr(self, name))
        check.choice("backend", self.backend, BACKENDS)
        if self.runtime is not None and self.runtime not in RUNTIMES:
            raise InvalidArgumentError(f"unknown runtime {self.runtime!r}; known: {', '.join(RUNTIMES)}",
                                       hint="leave it out to use the first one installed")
        put("delegate", check_delegate_name(self.delegate))
        if self.reference_delegate is not None:
            put("reference_delegate", check_delegate_name(self.reference_delegate))
        if self.delegate_options is not None and not isinstance(self.delegate_options, dict):
            raise InvalidArgumentError(f"delegate_options must be a dict of KEY: VALUE, got {self.delegate_options!r}",
                                       hint="e.g. {'kernels': 'scalar'}")
        if self.delegate_options and self.delegate in DELEGATES_WITHOUT_OPTIONS:
            raise InvalidArgumentError(
                f"delegate options {sorted(self.delegate_options)} given for {self.delegate!r}, which takes none",
                hint="options apply to --delegate neon and to external delegate libraries")
        put("report", check.output_path("report", self.report))

    def check_inputs(self, model, reference, data) -> None:
        """Refuse a report path that is one of the inputs (writing it would destroy the input)."""
        if self.report is not None:
            from ...atomic import check_outputs

            check_outputs({"report": self.report}, {"model": model, "reference model": reference, "data": data})

    @property
    def engine_delegate_options(self) -> dict[str, Any] | None:
        return self.delegate_options if self.delegate not in DELEGATES_WITHOUT_OPTIONS else None
