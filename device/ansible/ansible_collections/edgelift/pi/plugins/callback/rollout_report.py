"""edgelift.pi.rollout_report: what each host's edgelift tasks did, as JSON, for `edgelift deploy --engine ansible`.

Enabled with ANSIBLE_CALLBACKS_ENABLED=edgelift.pi.rollout_report; writes the file named by
EDGELIFT_ROLLOUT_REPORT when the playbook ends (nothing without it). The normal screen output is unchanged.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: rollout_report
type: notification
short_description: Write each host's edgelift results to a JSON file (for edgelift deploy --engine ansible)
description:
  - Records the results of edgelift.pi tasks (and the rollout role's final fail) per host and writes them,
    with the recap, to the file named by the environment variable EDGELIFT_ROLLOUT_REPORT.
requirements:
  - enable in callbacks_enabled
"""

ROLE_ACTIONS = ("ansible.builtin.fail", "fail", "ansible.builtin.assert", "assert")  # the rollout role's own
KEPT = ("changed", "msg", "step", "error", "release", "previous", "bundle_id", "runtime", "partition", "skipped")


def _parts(result):
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    res = getattr(result, "result", None) or result._result
    return host.get_name(), task, res


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "edgelift.pi.rollout_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hosts: dict[str, list[dict]] = {}
        self.started: dict[tuple[str, str], float] = {}

    def _record(self, result, status: str) -> None:
        name, task, res = _parts(result)
        action = str(task.action)
        if not (action.startswith("edgelift.pi.") or action in ROLE_ACTIONS):
            return
        t0 = self.started.pop((name, str(task._uuid)), None)
        row = {"action": action.rsplit(".", 1)[-1], "status": status,
               "seconds": 0.0 if t0 is None else time.monotonic() - t0}
        row.update({k: res.get(k) for k in KEPT if k in res})
        self.hosts.setdefault(name, []).append(row)

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), str(task._uuid))] = time.monotonic()

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("EDGELIFT_ROLLOUT_REPORT")
        if not path:
            return
        recap = {h: stats.summarize(h) for h in sorted(stats.processed)}
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"hosts": self.hosts, "recap": recap}, fh, default=str)
        os.replace(tmp, path)
