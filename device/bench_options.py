"""`BenchOptions`: every setting of `edgelift bench`, checked once when it is built, for the three places a
bench runs — here (timed), on an emulated Pi (`emulate`, instructions counted) and on a device
(`on_device`, timed there over SSH). A value a place cannot honour is refused, never ignored or replaced.

Defaults depend on the place (runs: 50 here and on a device, 1 emulated; warmup 5 / 5 / 1; delegates
xnnpack here, neon,builtin,xnnpack on a device, the meter's choice emulated), so None means "the place's
default" and the constructor stores the resolved value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import option_checks as check
from ..errors import InvalidArgumentError

DEFAULT_RUNS = 50
DEFAULT_WARMUP = 5
DEVICE_DELEGATES = ("neon", "builtin", "xnnpack")
DELEGATES_WITHOUT_OPTIONS = ("builtin", "xnnpack")
BOARDS = ("rpi4", "rpi5")


def parse_delegates(delegates: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """'xnnpack,neon' or a list -> names, each once; None -> ['xnnpack']."""
    if delegates is None:
        return ["xnnpack"]
    if not isinstance(delegates, (str, list, tuple)) or not all(isinstance(d, str) for d in delegates):
        raise InvalidArgumentError(f"delegates must be names separated by commas or a list of names, got "
                                   f"{delegates!r}", hint="e.g. --delegate xnnpack,builtin,neon")
    items = delegates.split(",") if isinstance(delegates, str) else list(delegates)
    names = [d.strip() for d in items if d and d.strip()]
    if not names:
        raise InvalidArgumentError(f"no delegate given ({delegates!r})",
                                   hint="e.g. --delegate xnnpack,builtin,neon or a path to a library")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidArgumentError(f"delegate(s) {', '.join(dup)} given more than once in {names}",
                                   hint="name each delegate once")
    return names


@dataclass(frozen=True)
class BenchOptions:
    """`runs` or `seconds` (not both); `warmup` untimed invocations first; `delegate_options` go to every
    delegate that takes options ('neon' and library paths); `report` an HTML page; `per_op` also times each op
    alone (here only); `emulate` 'rpi4' | 'rpi5'; `on_device` for `bench --host`."""

    delegates: str | list[str] | tuple[str, ...] | None = None
    threads: int = 1
    runs: int | None = None
    seconds: float | None = None
    warmup: int | None = None
    delegate_options: dict[str, Any] | None = None
    runtime: str | None = None
    report: str | os.PathLike | None = None
    per_op: bool = False
    emulate: str | None = None
    on_device: bool = False

    def __post_init__(self) -> None:
        check.flag("per_op", self.per_op)
        check.flag("on_device", self.on_device)
        check.choice("emulate", self.emulate, (None, *BOARDS))
        if self.delegate_options is not None and not isinstance(self.delegate_options, dict):
            raise InvalidArgumentError(f"delegate_options must be a dict of KEY: VALUE, got {self.delegate_options!r}",
                                       hint="e.g. {'kernels': 'scalar'}")
        if self.emulate is not None:
            self._check_emulated()
        elif self.on_device:
            self._check_on_device()
        else:
            self._check_here()
        object.__setattr__(self, "report", check.output_path("report", self.report))

    def _put(self, name: str, value) -> None:
        object.__setattr__(self, name, value)

    def _check_here(self) -> None:
        from .runtime import check_delegate_name

        names = parse_delegates(self.delegates)
        for name in names:  # a misspelt name is refused before any work; one that fails to load is a row
            check_delegate_name(name)
        self._put("delegates", tuple(names))
        if self.runs is not None and self.seconds is not None:
            raise InvalidArgumentError(f"give runs ({self.runs}) or seconds ({self.seconds}), not both",
                                       hint="--runs counts invocations per delegate; --seconds bounds the whole loop")
        self._put("runs", check.optional_whole("runs", self.runs, 1, "--runs 50"))
        self._put("seconds", check.optional_finite("seconds", self.seconds, 0.0, inclusive=False,
                                                   example="--seconds 10"))
        if self.runs is None and self.seconds is None:
            self._put("runs", DEFAULT_RUNS)
        self._put("warmup", check.whole("warmup", DEFAULT_WARMUP if self.warmup is None else self.warmup, 0,
                                        "--warmup 5"))
        self._put("threads", check.whole("threads", self.threads, 1, "--threads 4"))
        from .runtime.selection import RUNTIMES

        if self.runtime is not None and self.runtime not in RUNTIMES:
            raise InvalidArgumentError(f"unknown runtime {self.runtime!r}; known: {', '.join(RUNTIMES)}",
                                       hint="leave it out to use the first one installed")
        if self.delegate_options and all(n in DELEGATES_WITHOUT_OPTIONS for n in names):
            raise InvalidArgumentError(
                f"delegate options {sorted(self.delegate_options)} given, but {', '.join(names)} take(s) none",
                hint="options apply to 'neon' and to external delegate libraries: add -d neon, or drop the options")

    def _check_emulated(self) -> None:
        board = self.emulate
        refused = [(self.seconds is not None, f"seconds={self.seconds!r}", "counts are exact: give --runs (default 1)"),
                   (self.per_op, "per_op", "the NEON delegate's rows are already split by op"),
                   (self.threads != 1, f"threads={self.threads!r}", "the meter counts one thread")]
        for bad, what, why in refused:
            if bad:
                raise InvalidArgumentError(f"{what} cannot be combined with emulate={board!r}", hint=why)
        if self.delegates is not None:
            self._put("delegates", tuple(parse_delegates(self.delegates)))
        for name, default in (("runs", 1), ("warmup", 1)):
            value = default if getattr(self, name) is None else getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"{name} must be a whole number >= 1 with --emulate, got {value!r}",
                                           hint="counts are exact: --runs 1 is enough; warm-up runs are not counted")
            self._put(name, value)

    def _check_on_device(self) -> None:
        unsupported = {"--seconds": self.seconds, "--runtime": self.runtime, "--report": self.report,
                       "--delegate-option": self.delegate_options or None, "--per-op": self.per_op or None}
        given = [name for name, value in unsupported.items() if value is not None]
        if given:
            raise InvalidArgumentError(f"{', '.join(given)} cannot be combined with --host",
                                       hint="on a device: --delegate neon,builtin,xnnpack, --threads, --runs, --warmup")
        names = parse_delegates(",".join(DEVICE_DELEGATES) if self.delegates is None else self.delegates)
        bad = [d for d in names if d not in DEVICE_DELEGATES]
        if bad:
            raise InvalidArgumentError(f"unknown remote delegate(s) {bad!r}; allowed: {', '.join(DEVICE_DELEGATES)}",
                                       hint="e.g. --delegate neon,builtin,xnnpack")
        self._put("delegates", tuple(names))
        self._put("runs", check.whole("runs", DEFAULT_RUNS if self.runs is None else self.runs, 1, "--runs 50"))
        self._put("warmup", check.whole("warmup", DEFAULT_WARMUP if self.warmup is None else self.warmup, 0,
                                        "--warmup 5"))
        self._put("threads", check.whole("threads", self.threads, 1, "--threads 4"))

    def check_inputs(self, model, inputs) -> None:
        """Refuse inputs the place cannot feed and a report path that is one of the inputs, before any work."""
        if inputs is not None and (self.emulate is not None or self.on_device):
            if self.on_device:
                raise InvalidArgumentError("--input cannot be combined with --host",
                                           hint="on a device: --delegate neon,builtin,xnnpack, --threads, --runs, "
                                                "--warmup")
            raise InvalidArgumentError(f"inputs cannot be combined with emulate={self.emulate!r}",
                                       hint="the meter feeds seeded random inputs; costs barely depend on values")
        if self.report is not None:
            from ..atomic import check_outputs

            check_outputs({"report": self.report}, {"model": model, "input data": inputs})

    def for_delegate(self, name: str) -> dict[str, Any] | None:
        """The delegate options `name` takes (none for builtin and xnnpack)."""
        return self.delegate_options if name not in DELEGATES_WITHOUT_OPTIONS else None
