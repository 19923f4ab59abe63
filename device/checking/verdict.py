"""The verdict of a validation: PASS / FAIL against the thresholds given, or "no thresholds set" — and alarms.

Without thresholds nothing was checked, so nothing passed: saying PASS above a model that lost 90 points of
accuracy would be a lie. Alarms are raised whatever the thresholds: measurements no user would accept from a
quantized model (an accuracy drop or a top-1 disagreement far beyond what int8 costs a healthy model, which
is well under one point on the models here).
"""

from __future__ import annotations

from typing import Any

# beyond these, the model is broken, not "slightly less accurate"
ALARM_ACCURACY_DROP = 0.05  # 5 points below the reference's accuracy
ALARM_MIN_AGREEMENT = 0.90  # top-1 agrees with the reference on fewer than 90% of samples

NO_THRESHOLDS = ("no thresholds set: nothing was checked (give --max-accuracy-drop, --min-agreement, --atol or "
                 "--exact for a PASS/FAIL verdict)")


def alarms(outputs: list[dict[str, Any]]) -> list[str]:
    """One line per output measurement that no user would accept."""
    out = []
    for o in outputs:
        where = f"output {o['index']} {o['name']!r}"
        drop = o.get("accuracy_drop")
        if drop is not None and drop > ALARM_ACCURACY_DROP:
            out.append(f"{where}: accuracy {100 * o['accuracy']:.2f}% against the reference's "
                       f"{100 * o['reference_accuracy']:.2f}% — a drop of {100 * drop:.2f} points (above "
                       f"{100 * ALARM_ACCURACY_DROP:.0f}): this model is broken; run validate --per-layer to find "
                       "the layer that causes it")
        agree = o.get("top1_agreement")
        if agree is not None and agree < ALARM_MIN_AGREEMENT:
            out.append(f"{where}: top-1 agreement with the reference {100 * agree:.2f}% (below "
                       f"{100 * ALARM_MIN_AGREEMENT:.0f}%): the model decides differently from its reference")
    return out


def status(thresholds: dict[str, Any], failures: list[str]) -> str:
    """'pass', 'fail' or 'unchecked' (no thresholds given)."""
    if failures:
        return "fail"
    return "pass" if any(v is not None and v is not False for v in thresholds.values()) else "unchecked"
