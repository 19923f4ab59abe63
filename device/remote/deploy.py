"""Install a bundle on one device over SSH, verified, atomically; and roll it back (the device's folder layout
is in edgelift.device.remote.device; the public `edgelift.deploy` / `rollback` in edgelift.device.remote.api).

Steps of a deploy, each named in the error when it fails: connect, upload, verify (sha256 of every file, on
the device), self-check (the model with the delegate must reproduce the desktop reference outputs), switch.
Nothing before `switch` touches `current`, so a failure leaves the running version as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError, ModelNotFoundError, RemoteError
from .bundle import AGENT_PATH, load_bundle
from .bundle import bundle as build_bundle
from .device import Device, _q
from .install_runtime import ensure_runtime
from .ssh import SSHError

KEEP_RELEASES = 3


@dataclass
class DeployResult:
    host: str
    ok: bool
    release: str | None = None
    previous: str | None = None
    bundle_id: str | None = None
    step: str | None = None
    error: str | None = None
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)
    check: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.ok:
            return f"{self.host}: FAILED at {self.step}: {self.error}"
        check = self.check
        tols = [o.get("tolerance") for o in check.get("outputs") or [] if o.get("tolerance") is not None]
        how = "bit for bit" if check.get("exact") else (
            "within " + ", ".join(f"{t:g}" for t in tols) if tols else "within tolerance")
        return (f"{self.host}: deployed {self.release} (previous: {self.previous or 'none'}) in {self.seconds:.1f} s; "
                f"{check.get('files', '?')} files verified, self-check {how} on {check.get('runtime')} "
                f"{check.get('runtime_version')}" + (f"; {check['partition']}" if check.get("partition") else
                                                     f" with {check['delegate']}" if check.get("delegate") else "")
                + "".join(f"\nwarning: {w}" for w in check.get("warnings") or []))

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def prepare_bundle(model_or_bundle: str | os.PathLike, target: str, workdir: str,
                   self_check_atol: float | None = None) -> tuple[Path, dict[str, Any]]:
    """A verified local bundle: the folder itself, or one built from a .tflite into `workdir`."""
    path = Path(model_or_bundle)
    if not path.exists():
        raise ModelNotFoundError(f"{str(path)!r} does not exist",
                                 hint="give a .tflite or a folder built by `edgelift bundle`")
    if path.is_dir():
        if self_check_atol is not None:
            raise InvalidArgumentError("--self-check-atol is fixed when a bundle is built; this is a bundle folder",
                                       hint="rebuild it: `edgelift bundle MODEL.tflite --self-check-atol X`")
        return path, load_bundle(path)
    result = build_bundle(path, target=target, output=Path(workdir) / "bundle", self_check_atol=self_check_atol)
    return result.path, result.manifest


def deploy_bundle(device: Device, local: Path, manifest: dict[str, Any], *, install_runtime: bool = False,
                  wheels=None, keep: int = KEEP_RELEASES, progress: Callable[[str], None] | None = None
                  ) -> DeployResult:
    say = progress or (lambda _msg: None)
    start = time.perf_counter()
    steps: list[tuple[str, float]] = []
    t = time.perf_counter()

    def done(step: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps.append((step, now - t))
        say(f"{device.target}: {step} ok ({now - t:.1f} s)")
        t = now

    state = device.state("connect", lock=True)
    current = state.get("current")
    device.check_lock(state)
    with device.heartbeat():
        release = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{manifest['bundle_id']}"
        staging = device.path("staging", release)
        try:
            if install_runtime:
                ensure_runtime(device, wheels=wheels, current=current)
                state = device.state("connect")
            device.check_python(state)
            done("connect")
            try:
                device.connection.upload_tree(local, staging, timeout=600)
            except SSHError as exc:
                raise device.failure("upload", str(exc), current=current) from None
            done("upload")
            agent_file = f"{staging}/{AGENT_PATH}"
            check = device.agent("verify", agent_file, ["check", "--bundle", staging], current=current)
            steps.append(("verify+self-check", time.perf_counter() - t))
            say(f"{device.target}: verify ok ({check.get('files')} files), self-check ok")
            t = time.perf_counter()
            switch = (
                "set -e\n"
                f"cd {_q(device.base)}\n"
                f"mv -T -- {_q('staging/' + release)} {_q('releases/' + release)}\n"
                "old=$(readlink current || true)\n"
                f"ln -s -- {_q('releases/' + release)} .current.new.$$\n"
                "mv -T -- .current.new.$$ current\n"
                'if [ -n "$old" ]; then ln -s -- "$old" .previous.new.$$ && mv -T -- .previous.new.$$ previous; fi\n'
            )
            try:
                device.shell("switch", switch, current=current)
            except RemoteError as exc:
                raise _after_switch_failure(device, exc, release, current) from None
            done("switch")
        except BaseException:
            # best effort: a dead connection leaves the partial staging folder for the next deploy to clear, and
            # the lock until it goes stale
            try:
                device.connection.run(f"rm -rf -- {_q(staging)}\n" + device.unlock_script(), check=False, timeout=30)
            except Exception:  # noqa: BLE001 - the original failure is what matters
                pass
            raise
        _prune(device, keep)
    return DeployResult(host=str(device.target), ok=True, release=release, previous=current,
                        bundle_id=manifest["bundle_id"], seconds=time.perf_counter() - start, steps=steps,
                        check={k: check.get(k) for k in ("files", "runtime", "runtime_version", "partition", "delegate",
                                                         "exact", "outputs", "warnings")})


def _after_switch_failure(device: Device, exc: RemoteError, release: str, current: str | None) -> RemoteError:
    """The switch may have run before the connection went: read what the device runs now, and say that."""
    if "connection failed or was cut" not in str(exc) and "timed out" not in str(exc):
        return exc
    info = f"`edgelift device info --host {device.target}`"
    try:
        now = device.state("switch").get("current")
    except RemoteError:
        return RemoteError(
            f"{device.target}: the connection was lost during step 'switch'; the device runs either {release} "
            f"(new) or {current or 'nothing'} (before) — it could not be asked which",
            hint=f"check with {info} once it is reachable; `edgelift rollback` goes back if it is on the new one")
    if now == release:
        return RemoteError(
            f"{device.target}: the connection was lost right after step 'switch' ran: the device now runs {release} "
            f"(the new version; previous {current or 'none'}); old releases were not pruned",
            hint=f"nothing to redo: check it with {info}, or go back with `edgelift rollback --host {device.target}`")
    return exc


def _prune(device: Device, keep: int) -> None:
    """Remove old releases beyond `keep`, never `current` or `previous`; clear stale staging folders."""
    script = (
        f"cd {_q(device.base)} || exit 0\n"
        "cur=$(readlink current || true); prev=$(readlink previous || true)\n"
        f"ls -1 releases | sort -r | tail -n +{keep + 1} | while IFS= read -r r; do\n"
        '  [ "releases/$r" = "$cur" ] || [ "releases/$r" = "$prev" ] || rm -rf -- "releases/$r"\n'
        "done\n"
        "find staging -mindepth 1 -maxdepth 1 -mmin +60 -exec rm -rf -- {} + 2>/dev/null || true\n"
        "rm -rf .lock\n"
    )
    device.connection.run(script, check=False, timeout=60)


def rollback_device(device: Device) -> DeployResult:
    """`rollback` on a Device already made (the edgelift.pi Ansible collection builds it from host variables)."""
    start = time.perf_counter()
    state = device.state("connect", lock=True)
    device.check_lock(state)
    try:
        with device.heartbeat():
            return _rollback(device, state, start)
    finally:
        device.connection.run(device.unlock_script(), check=False, timeout=30)


def _rollback(device: Device, state: dict[str, Any], start: float) -> DeployResult:
    current, previous = state.get("current"), state.get("previous")
    if not previous:
        raise RemoteError(f"{device.target}: nothing to roll back to: no previous release in {device.remote_dir}"
                          + (f" (current: {current})" if current else " (nothing deployed)"),
                          hint="rollback needs two deploys; deploy the version you want instead")
    device.check_python(state)
    prev_dir = device.path("releases", previous)
    device.agent("verify", f"{prev_dir}/{AGENT_PATH}", ["verify", "--bundle", prev_dir], current=current)
    script = (
        "set -e\n"
        f"cd {_q(device.base)}\n"
        f"ln -s -- {_q('releases/' + previous)} .current.new.$$\n"
        "mv -T -- .current.new.$$ current\n"
        + (f"ln -s -- {_q('releases/' + current)} .previous.new.$$ && mv -T -- .previous.new.$$ previous\n"
           if current else "rm -f previous\n")
    )
    device.shell("rollback", script, current=current)
    return DeployResult(host=str(device.target), ok=True, release=previous, previous=current,
                        seconds=time.perf_counter() - start, steps=[("rollback", time.perf_counter() - start)])

