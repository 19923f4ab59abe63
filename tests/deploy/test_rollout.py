"""`edgelift deploy --engine ansible`: arguments checked before any work (one line, exit 2), the wave plan
against Ansible's own `serial` arithmetic, and the summary table built from a report. No ssh, no qemu."""

from __future__ import annotations

import pytest

from edgelift.cli import main
from edgelift.device.remote.rollout import parse_waves
from edgelift.device.remote.rollout_report import RolloutResult, plan_waves, rows_from_report
from edgelift.errors import InvalidArgumentError


@pytest.mark.parametrize("text, waves", [("25%,100%", ["25%", "100%"]), ("2, 50% ,100%", [2, "50%", "100%"]),
                                         ("100%", ["100%"]), ("007%", ["7%"])])
def test_parse_waves(text, waves):
    assert parse_waves(text) == waves


@pytest.mark.parametrize("text, match", [("0%", "outside 1%..100%"), ("150%", "outside 1%..100%"),
                                         ("abc", "cannot read wave 'abc'"), ("-5", "cannot read wave '-5'"),
                                         ("25%,,100%", "empty wave"), ("", "empty wave"), ("0", "has no hosts"),
                                         ("2.5%", "cannot read wave '2.5%'")])
def test_parse_waves_refuses(text, match):
    with pytest.raises(InvalidArgumentError, match=match):
        parse_waves(text)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 33])
@pytest.mark.parametrize("sizes", [[1, "25%", "100%"], [2, "10%", "50%"], [1, 3], [1, "100%"]])
def test_wave_plan_is_ansibles(n, sizes):
    from ansible.utils.helpers import pct_to_int

    names = [f"h{i}" for i in range(n)]
    # Ansible's PlaybookExecutor._get_serialized_batches, step by step with its own helper
    expected, rest, k = [], list(names), 0
    while rest:
        size = pct_to_int(sizes[min(k, len(sizes) - 1)], n)
        expected.append(rest[:size])
        rest, k = rest[size:], k + 1
    assert plan_waves(names, sizes) == expected


def test_rows_and_table_from_a_report():
    plan = [["a"], ["b", "bad"], ["c"]]
    ok = {"action": "deploy", "status": "ok", "changed": True, "release": "R2-x", "previous": "R1-x",
          "bundle_id": "x", "seconds": 2.0}
    report = {"hosts": {
        "a": [ok, {"action": "health", "status": "ok", "seconds": 1.0}],
        "b": [dict(ok, changed=False, release="R1-x", previous=None)],
        "bad": [ok, {"action": "health", "status": "failed", "error": "checksum mismatch", "step": "self-check"},
                {"action": "rollback", "status": "ok", "release": "R1-x"}, {"action": "fail", "status": "failed"}],
    }}
    result = RolloutResult(rows=rows_from_report(plan, report), waves=plan)
    rows = {ln.split()[0]: ln for ln in result.table().splitlines()[1:-1]}
    assert "(canary)" in rows["a"] and " ok " in rows["a"] and "R2-x (previous: R1-x)" in rows["a"]
    assert "unchanged" in rows["b"] and "R1-x already live" in rows["b"]
    assert "at health: checksum mismatch; rolled back to R1-x" in rows["bad"]
    assert "skipped" in rows["c"] and "not attempted: wave 2 failed" in rows["c"]
    assert not result.ok and [r.host for r in result.failed] == ["bad", "c"]
    assert result.table().splitlines()[-1].startswith("2 of 4 devices deployed by Ansible in waves of 1+2+1")


def run(capsys, *args):
    capsys.readouterr()
    code = main([str(a) for a in args])
    return code, capsys.readouterr()


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    bundle = tmp_path / "m.bundle"  # never reached: every check below fails first
    inv = tmp_path / "inventory.ini"
    inv.write_text("pi-a ansible_host=127.0.0.1\n")
    cases = [
        (["--hosts", tmp_path / "missing.ini", "--engine", "ansible"], "hosts file"),
        (["--hosts", inv, "--engine", "ansible", "--waves", "150%"], "outside 1%..100%"),
        (["--hosts", inv, "--engine", "ansible", "--waves", "10%,x"], "cannot read wave 'x'"),
        (["--hosts", inv, "--engine", "ansible", "--canary", "0"], "--canary must be a whole number >= 1"),
        (["--hosts", inv, "--engine", "ansible", "--concurrency", "0"], "--concurrency must be"),
        (["--hosts", inv, "--waves", "50%"], "--waves: only with --engine ansible"),
        (["--hosts", inv, "--check"], "--check: only with --engine ansible"),
        (["--host", "pi", "--engine", "ansible"], "--engine ansible deploys a fleet"),
        (["--hosts", inv, "--engine", "ansible", "--group", "nope"], "group 'nope' is not in"),
    ]
    for args, match in cases:
        code, (out, err) = run(capsys, "deploy", bundle, *args)
        assert code == 2, (args, out, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0], (args, err)
        assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inventory.ini"]
