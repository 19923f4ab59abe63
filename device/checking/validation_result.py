"""The result of `edgelift.validate`: per-output figures, thresholds and verdict, as text and as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA = "edgelift.validate/1"


@dataclass
class ValidationResult:
    model: str
    model_engine: str
    reference: str
    reference_kind: str
    data: str
    samples: int
    outputs: list[dict[str, Any]]
    thresholds: dict[str, Any]
    failures: list[str]
    exact: bool
    seconds: float
    diagnosis: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        """'pass', 'fail', or 'unchecked' when no threshold was given (then nothing passed)."""
        from .verdict import status

        return status(self.thresholds, self.failures)

    @property
    def alarms(self) -> list[str]:
        from .verdict import alarms

        return alarms(self.outputs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "model": self.model,
            "engine": self.model_engine,
            "reference": self.reference,
            "reference_kind": self.reference_kind,
            "data": self.data,
            "samples": self.samples,
            "exact": self.exact,
            "outputs": self.outputs,
            "thresholds": self.thresholds,
            "passed": self.passed,
            "status": self.status,
            "failures": self.failures,
            "alarms": self.alarms,
            "per_layer": self.diagnosis.as_dict() if self.diagnosis is not None else None,
            "notes": self.notes,
            "seconds": self.seconds,
        }

    def format(self) -> str:
        lines = [
            f"model      {self.model}",
            f"  engine   {self.model_engine}",
            f"reference  {self.reference}",
            f"data       {self.data}, {self.samples} samples",
        ]
        for o in self.outputs:
            lines.append(f"output {o['index']} {o['name']!r} {tuple(o['shape'])}:")
            if self.exact and o.get("exact"):
                e = o["exact"]
                lines.append(f"  identical        {100 * e['identical_share']:.3f}% of {e['elements']} elements "
                             f"({e['differing_elements']} differ), largest difference {e['max_lsb_difference']} LSB")
            lines.append(f"  max abs error    {o['max_abs_error']:.6g}")
            lines.append(f"  mean abs error   {o['mean_abs_error']:.6g}")
            lines.append(f"  SNR              {o['snr_db']:.2f} dB")
            lines.append(f"  cosine           {o['cosine']:.6f}")
            if o["top1_agreement"] is not None:
                lines.append(f"  top-1 agreement  {100 * o['top1_agreement']:.2f}%")
            if o["accuracy"] is not None:
                lines.append(f"  accuracy         {100 * o['accuracy']:.2f}% "
                             f"(reference {100 * o['reference_accuracy']:.2f}%, "
                             f"drop {100 * o['accuracy_drop']:+.2f} points)")
        for n in self.notes:
            lines.append(f"note: {n}")
        if self.diagnosis is not None:
            lines += ["", self.diagnosis.format()]
        given = {k: v for k, v in self.thresholds.items() if v is not None}
        lines.append("")
        lines += [f"ALARM: {a}" for a in self.alarms]
        if given:
            lines.append("thresholds " + ", ".join(f"{k}={v}" for k, v in given.items()) + ": "
                         + ("PASS" if self.passed else "FAIL"))
            lines += [f"  missed: {f}" for f in self.failures]
        else:
            from .verdict import NO_THRESHOLDS

            lines.append(NO_THRESHOLDS)
        return "\n".join(lines)
