"""`edgelift deploy BUNDLE --hosts inventory.ini --engine ansible`: a rolling deploy run by Ansible.

The fleet is handed to ansible-core (the controller's own, `python -m ansible playbook`) with the edgelift.pi
collection (device/ansible/ansible_collections/edgelift/pi): its playbook `rollout.yml` deploys in waves —
the canary first, then percentage waves (Ansible's `serial`), each host through `edgelift.pi.deploy` (the
same code as `edgelift deploy --host`) and a health gate (`edgelift.pi.health`: the live release's
self-check, then a `run` of the reference input compared bit for bit). A host failing its gate is rolled
back (`edgelift.pi.rollback`); any failed host stops the waves after its own (`max_fail_percentage: 0`). An
unreachable host is reported and does not stop the rollout unless its whole wave is unreachable (Ansible's
rule; a canary that cannot be reached stops everything).

Arguments are checked before anything runs; Ansible's own output goes to `progress` (stderr in the CLI).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ...errors import InvalidArgumentError, RemoteError, ToolUnavailableError
from .rollout_report import RolloutResult, plan_waves, rows_from_report

COLLECTIONS_ROOT = Path(__file__).resolve().parents[1] / "ansible"
PLAYBOOK = COLLECTIONS_ROOT / "ansible_collections" / "edgelift" / "pi" / "playbooks" / "rollout.yml"
DEFAULT_WAVES = "25%,100%"
_WAVE = re.compile(r"^(?:(?P<pct>\d{1,3})%|(?P<count>\d+))$")


def parse_waves(text: str) -> list[str | int]:
    """'25%,100%' -> ['25%', '100%']: the waves after the canary, each a percentage of the fleet (1%..100%) or
    a number of hosts; the last one repeats until every host had its turn (Ansible's `serial` list)."""
    items = [t.strip() for t in str(text).split(",")]
    if not items or any(not t for t in items):
        raise InvalidArgumentError(f"--waves {text!r} has an empty wave; give sizes separated by commas",
                                   hint="e.g. --waves 25%,100% (percentages of the fleet or host counts)")
    waves: list[str | int] = []
    for item in items:
        m = _WAVE.match(item)
        if m is None:
            raise InvalidArgumentError(f"--waves: cannot read wave {item!r}; allowed: a percentage 1%..100% or a "
                                       "number of hosts >= 1", hint="e.g. --waves 25%,100%")
        if m.group("pct") is not None:
            if not 1 <= int(m.group("pct")) <= 100:
                raise InvalidArgumentError(f"--waves: wave {item!r} is outside 1%..100%",
                                           hint="e.g. --waves 10%,50%,100%")
            waves.append(f"{int(m.group('pct'))}%")
        else:
            if int(m.group("count")) < 1:
                raise InvalidArgumentError(f"--waves: wave {item!r} has no hosts; a wave is at least 1 host",
                                           hint="e.g. --waves 2,100%")
            waves.append(int(m.group("count")))
    return waves


def _check_int(name: str, value, least: int, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidArgumentError(f"{name} must be a whole number >= {least}, got {value!r}", hint=f"e.g. {example}")
    return value


def ansible_available() -> None:
    try:
        import ansible  # noqa: F401
    except ImportError:
        raise ToolUnavailableError("--engine ansible needs ansible-core in edgelift's Python, and it is not installed",
                                   hint="pip install 'edgelift[ansible]' (ansible-core 2.19), or use the built-in "
                                        "engine: leave --engine out") from None


def rollout(model_or_bundle: str | os.PathLike, hosts: str | os.PathLike, *, group: str | None = None,
            canary: int = 1, waves: str = DEFAULT_WAVES, concurrency: int = 4, keep: int = 3,
            install_runtime: bool = False, check: bool = False, target: str = "rpi4", ssh_config=None,
            identity=None, accept_new_host_key: bool = False, remote_dir: str = "~/edgelift",
            remote_python: str | None = None, progress: Callable[[str], None] | None = None) -> RolloutResult:
    """Deploy a .tflite (bundled once here) or a bundle folder to an inventory in waves, through Ansible.
    Never raises for one device's failure: see ``.ok`` and ``.table()``."""
    from .deploy import prepare_bundle
    from .fleet import read_hosts
    from .ssh import connection_for

    # every argument is checked before any work (bundling, Ansible) starts
    fleet = read_hosts(hosts, group)
    names = [h.name for h in fleet]
    canary = _check_int("--canary", canary, 1, "--canary 1")
    concurrency = _check_int("--concurrency", concurrency, 1, "--concurrency 4")
    keep = _check_int("keep", keep, 1, "keep=3")
    wave_sizes = parse_waves(waves)
    # checks the config and key files now; Ansible's action plugins make each host's own Connection
    connection_for(fleet[0].target, ssh_config=ssh_config, identity=identity, accept_new_host_key=accept_new_host_key)
    ansible_available()
    plan = plan_waves(names, [canary, *wave_sizes])
    with tempfile.TemporaryDirectory(prefix="edgelift-rollout-") as work:
        local, manifest = prepare_bundle(model_or_bundle, target, work)
        extra = {"edgelift_bundle": str(Path(local).resolve()), "edgelift_waves": [canary, *wave_sizes],
                 "edgelift_hosts": group or "all", "edgelift_keep": keep,
                 "edgelift_install_runtime": bool(install_runtime),
                 # defaults only: an inventory's edgelift_remote_dir / ansible_python_interpreter win, as in
                 # the built-in engine
                 "edgelift_default_remote_dir": str(remote_dir)}
        if remote_python:
            extra["edgelift_default_remote_python"] = str(remote_python)
        if ssh_config:
            extra["edgelift_ssh_config"] = str(Path(ssh_config).resolve())
        if identity:
            extra["edgelift_identity"] = str(Path(identity).resolve())
        if accept_new_host_key:
            extra["edgelift_accept_new_host_key"] = True
        vars_file, report = Path(work) / "vars.json", Path(work) / "report.json"
        vars_file.write_text(json.dumps(extra))
        argv = [sys.executable, "-m", "ansible", "playbook", str(PLAYBOOK), "-i", str(Path(hosts).resolve()),
                "-e", f"@{vars_file}", "--forks", str(concurrency)] + (["--check"] if check else [])
        env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="edgelift.pi.rollout_report",
                   EDGELIFT_ROLLOUT_REPORT=str(report), ANSIBLE_RETRY_FILES_ENABLED="false",
                   ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(
                       [str(COLLECTIONS_ROOT)] + [p for p in [os.environ.get("ANSIBLE_COLLECTIONS_PATH")] if p]),
                   ANSIBLE_LOCAL_TEMP=str(Path(work) / "ansible-tmp"), PYTHONUNBUFFERED="1")
        tail: list[str] = []
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                                errors="replace")
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail = (tail + [line])[-20:]
            if progress is not None and line.strip():
                progress(line)
        rc = proc.wait()
        if not report.is_file():
            last = next((t for t in reversed(tail) if "ERROR" in t), None) or (tail[-1] if tail else "no output")
            raise RemoteError(f"ansible-playbook stopped before any host was deployed (exit {rc}): {last.strip()}",
                              hint="run again with -v to see Ansible's output")
        data = json.loads(report.read_text())
    rows = rows_from_report(plan, data, check=check)
    return RolloutResult(rows=rows, waves=plan, check=check, ansible_rc=rc, bundle_id=manifest["bundle_id"])


__all__ = ["DEFAULT_WAVES", "PLAYBOOK", "parse_waves", "rollout"]
