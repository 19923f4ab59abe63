"""Issue 14's case: the digits CNN with one outlier channel in conv3 (compensated in fc1). int8 loses almost all
accuracy; the diagnosis must blame conv3 — whose output range the outlier dictates — as range domination, not
fc1 that inherits the crushed channels; and no report may say PASS when no threshold was given."""

from __future__ import annotations

from edgelift.device.checking.validate import validate


def test_range_domination_blames_the_layer_that_causes_it(outlier_files):
    r = validate(outlier_files["int8"], reference=outlier_files["float"], data=outlier_files["test"],
                 per_layer=True, check=False)
    out = r.outputs[0]
    assert out["reference_accuracy"] > 0.9 and out["accuracy"] < 0.5  # measured: 98.4% -> 10.5%
    d = r.diagnosis
    by_name = {e.layer: e for e in d.layers}
    conv3 = by_name["conv3"]
    assert conv3.rel_error < 0.1  # the whole tensor's error hides it (the outlier dominates the RMS) ...
    assert conv3.channel_error > 0.5 and conv3.range_dominated  # ... its channels do not
    assert conv3.channels["dominating_channels"] == [outlier_files["channel"]]
    assert d.cause is conv3 and d.first_crossing is conv3 and d.ranked[0] is conv3
    assert by_name["fc1"].added < 0.1  # fc1 inherits the loss, it does not add it
    assert "range domination" in d.advice[0] and "conv3" in d.advice[0] and "--equalize" in d.advice[0]
    assert not any("fc1" in a for a in d.advice)
    assert d.as_dict()["cause"] == "conv3"
    for e in d.layers[:4]:  # the layers before it are healthy per channel too
        assert e.error < 0.05 and not e.range_dominated, e.layer


def test_no_thresholds_is_not_a_pass_and_a_broken_model_raises_an_alarm(outlier_files, tmp_path, capsys):
    from edgelift.cli import main

    page = tmp_path / "report.html"
    code = main(["validate", str(outlier_files["int8"]), "--reference", str(outlier_files["float"]), "--data",
                 str(outlier_files["test"]), "--per-layer", "--samples", "64", "--report", str(page)])
    out = capsys.readouterr().out
    assert code == 0, out  # nothing was asked to pass, so nothing failed ...
    assert "no thresholds set" in out and ": PASS" not in out  # ... and nothing passed
    assert "ALARM: output 0" in out and "drop of" in out
    assert "<- cause (range dominated)" in out
    html = page.read_text()
    assert "no thresholds set" in html and ">PASS<" not in html and ">ALARM<" in html
    assert "range dominated" in html and "cause: <b>conv3</b>" in html


def test_thresholds_still_pass_a_healthy_model(digits_files):
    r = validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"],
                 max_accuracy_drop="1%", samples=100)
    assert r.status == "pass" and r.alarms == [] and "thresholds max_accuracy_drop=0.01: PASS" in r.format()
    r = validate(digits_files["int8"], reference=digits_files["float"], data=digits_files["data"], samples=100)
    assert r.status == "unchecked" and r.alarms == [] and "no thresholds set" in r.format()
