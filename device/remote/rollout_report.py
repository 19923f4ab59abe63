"""The outcome of a rolling deploy run by Ansible, one row per device, from the edgelift.pi.rollout_report file.

    plan_waves(["a", "b", "c", "d"], [1, "50%", "100%"]) -> [["a"], ["b", "c"], ["d"]]   (Ansible's `serial`)
    rows_from_report(plan, report)  -> DeployResult rows in inventory order (step "skipped" for hosts never run)
    RolloutResult(...).table()      -> the summary table of `edgelift deploy --hosts`, with each host's wave
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .deploy import DeployResult


def wave_size(value: str | int, n_hosts: int) -> int:
    """A wave's host count as Ansible's `serial` computes it: 'N%' of the play's hosts, rounded down, at least 1."""
    if isinstance(value, str) and value.endswith("%"):
        return int(int(value[:-1]) / 100.0 * n_hosts) or 1
    return int(value)


def plan_waves(names: list[str], sizes: list[str | int]) -> list[list[str]]:
    """The hosts of each wave, in inventory order; the last size repeats until every host is in a wave."""
    waves, i, k = [], 0, 0
    while i < len(names):
        size = wave_size(sizes[min(k, len(sizes) - 1)], len(names))
        waves.append(names[i:i + size])
        i, k = i + size, k + 1
    return waves


def _row(name: str, events: list[dict[str, Any]], check: bool) -> DeployResult:
    seconds = sum(e.get("seconds") or 0.0 for e in events)
    by = {e["action"]: e for e in events}
    bad = next((e for e in events if e["status"] in ("failed", "unreachable")), None)
    deploy = by.get("deploy")
    if bad is not None and bad["action"] in ("deploy", "assert") or bad is not None and deploy is None:
        step = "connect" if bad["status"] == "unreachable" else (bad.get("step") or bad["action"])
        return DeployResult(host=name, ok=False, step=step, error=bad.get("error") or bad.get("msg"),
                            seconds=seconds)
    if bad is not None:  # deployed, then the health gate (or the rollback after it) failed
        health = by.get("health", bad)
        # "host: step 'verify' failed: X; the running version (R) is untouched" -> "verify: X" (it is rolled back)
        error = re.sub(r"^\S+: step '([^']*)' failed: ", r"\1: ", str(health.get("error") or health.get("msg")))
        error = re.sub(r"; the running version \([^)]*\) is untouched$", "", error)
        rolled = by.get("rollback")
        if rolled is None:
            error += "; nothing to roll back to (first deploy): the failing release stays live"
        elif rolled["status"] == "ok":
            error += f"; rolled back to {rolled.get('release')}"
        else:
            error += f"; rollback FAILED: {rolled.get('error') or rolled.get('msg')}"
        return DeployResult(host=name, ok=False, step="health", error=error, release=deploy.get("release"),
                            previous=deploy.get("previous"), bundle_id=deploy.get("bundle_id"), seconds=seconds)
    if deploy is None or deploy["status"] != "ok":
        return DeployResult(host=name, ok=False, step="deploy", error="the deploy task did not run",
                            seconds=seconds)
    changed = bool(deploy.get("changed"))
    return DeployResult(host=name, ok=True, release=deploy.get("release"), previous=deploy.get("previous"),
                        bundle_id=deploy.get("bundle_id"), seconds=seconds,
                        step=("would deploy" if check else "deployed") if changed else "unchanged",
                        check={"runtime": deploy.get("runtime"), "partition": deploy.get("partition")})


def rows_from_report(plan: list[list[str]], report: dict[str, Any], *, check: bool = False) -> list[DeployResult]:
    hosts = report.get("hosts", {})
    rows: list[DeployResult] = []
    stopped_at = None
    for k, wave in enumerate(plan, 1):
        for name in wave:
            if name not in hosts:
                why = ("the canary failed" if stopped_at == 1 else f"wave {stopped_at} failed") if stopped_at \
                    else "not run by Ansible"
                rows.append(DeployResult(host=name, ok=False, step="skipped", error=f"not attempted: {why}"))
            else:
                rows.append(_row(name, hosts[name], check))
        # Ansible stops after a wave with a failed host, or one whose hosts were all unreachable
        failed = [r for r in rows[-len(wave):] if not r.ok and r.step != "skipped"]
        if stopped_at is None and failed and (len(failed) == len(wave) or any(r.step != "connect" for r in failed)):
            stopped_at = k
    return rows


@dataclass
class RolloutResult:
    rows: list[DeployResult]
    waves: list[list[str]]
    check: bool = False
    ansible_rc: int = 0
    bundle_id: str | None = None
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)

    @property
    def results(self) -> list[DeployResult]:
        return self.rows

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def failed(self) -> list[DeployResult]:
        return [r for r in self.rows if not r.ok]

    def wave_of(self, host: str) -> int:
        return next(k for k, w in enumerate(self.waves, 1) if host in w)

    def table(self) -> str:
        def label(r) -> str:
            return r.host + (" (canary)" if self.wave_of(r.host) == 1 else "")

        width = max([len("host")] + [len(label(r)) for r in self.rows])
        lines = [f"{'host':<{width}}  {'wave':>4}  {'status':<9} {'seconds':>7}  detail"]
        for r in self.rows:
            if r.ok and r.step == "unchanged":
                status, detail = "unchanged", f"{r.release} already live, self-check ok"
            elif r.ok and r.step == "would deploy":
                status, detail = "would", f"deploy bundle {r.bundle_id} (live now: {r.previous or 'none'})"
            elif r.ok:
                status, detail = "ok", f"{r.release} (previous: {r.previous or 'none'}), health gate ok"
            elif r.step == "skipped":
                status, detail = "skipped", r.error
            else:
                status, detail = "FAILED", f"at {r.step}: {r.error}"
            lines.append(f"{label(r):<{width}}  {self.wave_of(r.host):>4}  {status:<9} {r.seconds:>7.1f}  {detail}")
        n_ok = sum(r.ok for r in self.rows)
        sizes = "+".join(str(len(w)) for w in self.waves)
        how = f"by Ansible in waves of {sizes} hosts (canary {', '.join(self.waves[0])})"
        if self.check:
            would = sum(r.ok and r.step == "would deploy" for r in self.rows)
            lines.append(f"check mode, nothing changed: {would} of {len(self.rows)} devices would be deployed, "
                         f"{n_ok - would} already run the bundle, {len(self.rows) - n_ok} failed or skipped, {how}")
        else:
            lines.append(f"{n_ok} of {len(self.rows)} devices deployed {how}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "engine": "ansible", "check": self.check, "waves": self.waves,
                "bundle_id": self.bundle_id, "results": [r.as_dict() for r in self.rows]}


__all__ = ["RolloutResult", "plan_waves", "rows_from_report", "wave_size"]
