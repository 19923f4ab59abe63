"""The verdict: no thresholds is 'unchecked' (never PASS); alarms for drops no user would accept."""

from __future__ import annotations

from edgelift.device.checking.verdict import ALARM_ACCURACY_DROP, alarms, status


def _out(acc, ref, agree):
    return {"index": 0, "name": "logits", "accuracy": acc, "reference_accuracy": ref,
            "accuracy_drop": None if acc is None else ref - acc, "top1_agreement": agree}


def test_status_without_thresholds_is_unchecked():
    none = {"atol": None, "min_agreement": None, "max_accuracy_drop": None, "exact_max_lsb": None}
    assert status(none, []) == "unchecked"
    assert status({**none, "min_agreement": 0.9}, []) == "pass"
    assert status({**none, "min_agreement": 0.9}, ["top-1 agreement 0.5 < 0.9"]) == "fail"
    assert status({**none, "exact_max_lsb": 0}, []) == "pass"  # --exact with 0 LSB allowed is a threshold


def test_alarms_for_a_broken_model_only():
    broken = alarms([_out(0.0947, 0.9844, 0.10)])
    assert len(broken) == 2 and "drop of 88.97 points" in broken[0] and "--per-layer" in broken[0]
    assert "top-1 agreement with the reference 10.00%" in broken[1]
    assert alarms([_out(0.98, 0.9844, 0.995)]) == []
    edge = 0.9 - ALARM_ACCURACY_DROP
    assert alarms([_out(edge + 0.001, 0.9, 0.95)]) == [] and len(alarms([_out(edge - 0.001, 0.9, 0.95)])) == 1
    assert alarms([_out(None, None, None)]) == []  # no labels, no top-1: nothing to judge
