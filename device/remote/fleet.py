"""Deploy one bundle to many devices: a canary first, then the rest with bounded concurrency.

Hosts file: one ``[user@]host[:port]`` per line (``#`` comments), or an Ansible INI inventory::

    [pis]
    kitchen ansible_host=192.168.1.20 ansible_user=pi
    garage  ansible_host=192.168.1.21 ansible_port=2222 ansible_python_interpreter=/home/pi/venv/bin/python

    [pis:vars]
    edgelift_remote_dir=~/models

Recognised host variables: ``ansible_host``, ``ansible_user``, ``ansible_port``, ``ansible_python_interpreter``
(the device's Python, like --remote-python) and ``edgelift_remote_dir``. ``[g:children]`` nests groups.

If the canary fails, the others are not touched. After it, one device failing does not stop the others;
the result has one row per device and ``.ok`` says whether all succeeded.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import EdgeliftError, InvalidArgumentError, ModelNotFoundError
from .deploy import DeployResult, deploy_bundle
from .device import make_device
from .ssh import Connection, Target

HOST_VARS = ("ansible_host", "ansible_user", "ansible_port", "ansible_python_interpreter", "edgelift_remote_dir")


@dataclass
class FleetHost:
    name: str
    target: Target
    remote_python: str | None = None
    remote_dir: str | None = None


@dataclass
class FleetResult:
    results: list  # DeployResult, in inventory order
    canary: str
    seconds: float = 0.0
    concurrency: int = 1
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def failed(self) -> list:
        return [r for r in self.results if not r.ok]

    def table(self) -> str:
        def label(r) -> str:
            return r.host + (" (canary)" if r.host == self.canary else "")

        width = max([len("host")] + [len(label(r)) for r in self.results])
        lines = [f"{'host':<{width}}  {'status':<8} {'seconds':>7}  detail"]
        for r in self.results:
            if r.ok:
                status, detail = "ok", f"{r.release} (previous: {r.previous or 'none'})"
            elif r.step == "skipped":
                status, detail = "skipped", r.error
            else:
                status, detail = "FAILED", f"at {r.step}: {r.error}"
            lines.append(f"{label(r):<{width}}  {status:<8} {r.seconds:>7.1f}  {detail}")
        n_ok = sum(r.ok for r in self.results)
        lines.append(f"{n_ok} of {len(self.results)} devices deployed in {self.seconds:.1f} s "
                     f"(canary {self.canary}, then up to {self.concurrency} at a time)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "canary": self.canary, "seconds": self.seconds,
                "results": [r.as_dict() for r in self.results]}


def _parse_vars(tokens: list[str], where: str) -> dict[str, str]:
    out = {}
    for tok in tokens:
        key, eq, value = tok.partition("=")
        if not eq:
            raise InvalidArgumentError(f"{where}: cannot read {tok!r}; host variables are key=value",
                                       hint="e.g. kitchen ansible_host=192.168.1.20 ansible_user=pi")
        out[key] = value
    return out


def read_hosts(path: str | os.PathLike, group: str | None = None) -> list[FleetHost]:
    """The devices listed in a hosts file (plain or Ansible INI), optionally those of one group."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"hosts file {str(path)!r} does not exist",
                                 hint="one [user@]host[:port] per line, or an Ansible INI inventory")
    groups: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    group_vars: dict[str, dict[str, str]] = {}
    host_vars: dict[str, dict[str, str]] = {}
    order: list[str] = []
    section, kind = None, "hosts"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(f"hosts file {str(path)!r} is not UTF-8 text (byte {exc.start} is "
                                   f"{exc.object[exc.start:exc.start + 1]!r})",
                                   hint="one [user@]host[:port] per line, or an Ansible INI inventory") from None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        where = f"{path}:{n}"
        if line.startswith("["):
            if not line.endswith("]"):
                raise InvalidArgumentError(f"{where}: section header {line!r} has no closing ]",
                                           hint="write [group], [group:vars] or [group:children]")
            name, _, kind = line[1:-1].partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise InvalidArgumentError(f"{where}: unknown section kind {kind!r}",
                                           hint="allowed: [group], [group:vars], [group:children]")
            section = name
            groups.setdefault(name, [])
            continue
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InvalidArgumentError(f"{where}: cannot read {line!r} ({exc})", hint="check the quotes") from None
        if not tokens:
            continue
        if kind == "vars":
            group_vars.setdefault(section or "all", {}).update(_parse_vars(tokens, where))
        elif kind == "children":
            children.setdefault(section or "all", []).append(tokens[0])
        else:
            name = tokens[0]
            host_vars.setdefault(name, {}).update(_parse_vars(tokens[1:], where))
            if name not in order:
                order.append(name)
            groups.setdefault(section or "ungrouped", []).append(name)

    def members(g: str, seen: set[str]) -> list[str]:
        if g in seen:
            return []
        seen.add(g)
        out = list(groups.get(g, []))
        for child in children.get(g, []):
            out += members(child, seen)
        return out

    if group is not None:
        if group not in groups and group not in children:
            known = ", ".join(sorted(g for g in groups if g != "ungrouped")) or "none"
            raise InvalidArgumentError(f"group {group!r} is not in {str(path)!r}; groups there: {known}",
                                       hint="pass one of those with --group, or leave --group out for all hosts")
        wanted = set(members(group, set()))
        names = [h for h in order if h in wanted]
    else:
        names = order
    if not names:
        raise InvalidArgumentError(f"no hosts in {str(path)!r}" + (f" group {group!r}" if group else ""),
                                   hint="list one [user@]host[:port] per line")

    def vars_for(name: str) -> dict[str, str]:
        merged: dict[str, str] = dict(group_vars.get("all", {}))
        for g, hs in groups.items():
            if name in hs:
                merged.update(group_vars.get(g, {}))
        merged.update(host_vars.get(name, {}))
        return merged

    hosts = []
    for name in names:
        v = vars_for(name)
        target = Target.parse(name)
        if "ansible_port" in v and not v["ansible_port"].isdigit():
            raise InvalidArgumentError(f"host {name!r}: ansible_port={v['ansible_port']!r} is not a number",
                                       hint="give a TCP port such as 22")
        host = v.get("ansible_host", target.host)
        user, port = v.get("ansible_user", target.user), v.get("ansible_port", target.port)
        spec = (f"{user}@" if user else "") + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        try:  # one rule for every host: the variables pass the same check as --host (port range, user, host)
            target = Target.parse(spec)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"host {name!r} in the inventory: {exc.message}", hint=exc.hint) from None
        hosts.append(FleetHost(name=name, target=target, remote_python=v.get("ansible_python_interpreter"),
                               remote_dir=v.get("edgelift_remote_dir")))
    return hosts


def deploy_fleet(local: Path, manifest: dict[str, Any], hosts: list[FleetHost], *, connection: Connection,
                 concurrency: int = 4, keep: int = 3, install_runtime: bool = False, wheels=None, progress=None,
                 remote_dir: str = "~/edgelift", remote_python: str | None = None) -> FleetResult:
    """Deploy to `hosts` (from read_hosts), the first as the canary; `connection`'s ssh settings reach each one."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be a positive integer, got {concurrency!r}",
                                   hint="e.g. --concurrency 4")
    if not hosts:
        raise InvalidArgumentError("the fleet has no hosts", hint="list at least one host in the hosts file")
    start = time.perf_counter()

    def one(h: FleetHost) -> DeployResult:
        t0 = time.perf_counter()
        try:
            device = make_device(connection.to(h.target), remote_dir=h.remote_dir or remote_dir,
                                 remote_python=h.remote_python or remote_python)
            named = None if progress is None else (lambda msg: progress(msg.replace(str(h.target), h.name, 1)))
            result = deploy_bundle(device, local, manifest, install_runtime=install_runtime, wheels=wheels,
                                   keep=keep, progress=named)
            result.host = h.name
            return result
        except EdgeliftError as exc:
            error = re.sub(r"^step '[^']*' failed: ", "", exc.message.removeprefix(f"{h.target}: "))
            return DeployResult(host=h.name, ok=False, step=getattr(exc, "step", "deploy"), error=error,
                                seconds=time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - one device's bug must not stop the fleet
            return DeployResult(host=h.name, ok=False, step="deploy", error=f"{type(exc).__name__}: {exc}",
                                seconds=time.perf_counter() - t0)

    canary = hosts[0]
    first = one(canary)
    results = [first]
    if not first.ok:
        results += [DeployResult(host=h.name, ok=False, step="skipped", error="not attempted: the canary failed")
                    for h in hosts[1:]]
    elif len(hosts) > 1:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(hosts) - 1)) as pool:
            results += list(pool.map(one, hosts[1:]))
    return FleetResult(results=results, canary=canary.name, seconds=time.perf_counter() - start,
                       concurrency=concurrency)


__all__ = ["FleetHost", "FleetResult", "deploy_fleet", "read_hosts"]
