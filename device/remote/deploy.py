"""`edgelift.deploy` / `edgelift.rollback`: install a bundle on a device over SSH, verified, atomically.

On the device (``remote_dir``, default ``~/edgelift``)::

    releases/<release>/     one folder per installed bundle (<UTC time>-<bundle id>)
    current -> releases/…   what runs; switched with one rename (`mv -T`), never edited in place
    previous -> releases/…  what ran before; `rollback` swaps the two
    staging/<release>/      an upload in progress (discarded on failure)
    venv/                   only with --install-runtime: a venv with a TFLite runtime and numpy

Steps of a deploy, each named in the error when it fails: connect, upload, verify (sha256 of every file, on
the device), self-check (the model with the delegate must reproduce the desktop reference outputs), switch.
Nothing before `switch` touches `current`, so a failure leaves the running version as it was.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DataError, InvalidArgumentError, ModelNotFoundError, RemoteError, RuntimeUnavailableError
from .bundle import AGENT_PATH, load_bundle
from .bundle import bundle as build_bundle
from .lock import STALE_MIN, Heartbeat, take_script
from .ssh import Connection, SSHError, Target, connection_for, host_key_hint

DEFAULT_REMOTE_DIR = "~/edgelift"
MARKER = "@@edgelift@@"
KEEP_RELEASES = 3
RUNTIME_PINS = ("tflite-runtime==2.14.0", "numpy==1.26.4")
STEPS = ("connect", "upload", "verify", "self-check", "switch")


def remote_path(path: str) -> str:
    """A remote path as the remote shell should see it: `~/x` becomes `x` (ssh commands start in $HOME)."""
    path = str(path).strip()
    if not path:
        raise InvalidArgumentError("the remote directory is empty", hint="e.g. --remote-dir ~/edgelift")
    if path == "~":
        return "."
    if path.startswith("~/"):
        return path[2:].lstrip("/") or "."
    if path.startswith("~"):
        raise InvalidArgumentError(f"remote path {path!r}: ~user paths are not supported",
                                   hint="give an absolute path or one under ~/")
    return path


def _q(path: str) -> str:
    return shlex.quote(path)


@dataclass
class Device:
    """One device reached over SSH, and where edgelift lives on it."""

    connection: Connection
    remote_dir: str = DEFAULT_REMOTE_DIR
    remote_python: str | None = None  # None: <remote_dir>/venv/bin/python if present, else python3

    def __post_init__(self) -> None:
        self.base = remote_path(self.remote_dir)

    @property
    def target(self) -> Target:
        return self.connection.target

    def path(self, *parts: str) -> str:
        return "/".join([self.base.rstrip("/") or "/", *parts])

    def python_setup(self) -> str:
        """Shell lines that set $PY to the device's Python (quoted user value, or the venv, or python3)."""
        if self.remote_python:
            return f"PY={_q(remote_path(self.remote_python))}\n"
        venv = _q(self.path("venv", "bin", "python"))
        return f"if [ -x {venv} ]; then PY={venv}; else PY=python3; fi\n"

    def python_label(self) -> str:
        return self.remote_python or "python3"

    # -- running things --------------------------------------------------------------------------------

    def shell(self, step: str, script: str, *, input: bytes | None = None, timeout: float | None = 120,
              current: str | None = None, known: bool = True) -> str:
        try:
            proc = self.connection.run(script, input=input, timeout=timeout)
        except SSHError as exc:
            raise self.failure(step, str(exc), current=current, stderr=exc.stderr, known=known) from None
        return proc.stdout.decode("utf-8", "replace")

    def agent(self, step: str, agent_file: str, args: list[str], *, input: bytes | None = None,
              stdin_script: bool = False, timeout: float | None = 600, current: str | None = None) -> dict[str, Any]:
        """Run the on-device agent and return its result line (raises RemoteError naming `step`)."""
        from ..agent import AGENT_FILE

        cmd = ' "$PY" ' + (" - " if stdin_script else _q(agent_file) + " ") + " ".join(_q(a) for a in args)
        # not the last command of the script, so the shell waits and reports a crash as 128+signal (a remote
        # process killed by a signal would otherwise make ssh exit 255, like a cut connection)
        script = (self.python_setup() + cmd
                  + '\nrc=$?\n[ $rc -gt 128 ] && echo "agent died: signal $((rc - 128))" >&2\nexit $rc\n')
        data = AGENT_FILE.read_bytes() if stdin_script else input
        proc = self.connection.run(script, input=data, check=False, timeout=timeout)
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        result = None
        for line in reversed(out.splitlines()):
            if line.startswith(MARKER):
                result = json.loads(line[len(MARKER):])
                break
        if result is None:
            if proc.returncode == 127 or "not found" in err.lower() and "python" in err.lower():
                raise self.failure(step, f"the device's Python {self.python_label()!r} was not found",
                                   current=current, hint="give the interpreter with --remote-python PATH "
                                   "(Python 3.9+; a venv's bin/python is common)")
            from .ssh import describe_failure

            if "can't open file" in err and "edgelift_agent.py" in err:
                raise self.failure(step, f"nothing is deployed in {self.remote_dir} (no agent at {agent_file})",
                                   hint=f"deploy first: edgelift deploy MODEL --host {self.target}")
            if 128 < proc.returncode < 160 or "uncaught target signal" in err:
                # the interpreter died (a crash in the runtime or the delegate): name the signal and the step
                import signal as _signal

                num = proc.returncode - 128
                try:
                    sig = _signal.Signals(num).name
                except ValueError:
                    sig = f"signal {num}"
                if step == "verify" and "verify:" in err:
                    step = "self-check"  # the checksums passed; it died loading or running the model
                raise self.failure(step, f"the device's Python crashed ({sig}) in the agent's {args[0]!r}: "
                                   + (err.strip().splitlines() or ["no output"])[-1], current=current,
                                   hint="the runtime or the delegate crashed on this model; check "
                                   "`edgelift device info` against the bundle's runtimes_tested, and report it")
            raise self.failure(step, describe_failure(proc.returncode, err or out), current=current, stderr=err)
        result["stderr"] = err
        if not result.get("ok"):
            failed = result.get("step") or step
            if failed == "runtime":
                during = "self-check" if step == "verify" else step
                raise RuntimeUnavailableError(
                    f"{self.target}: step '{during}' failed: {result.get('message')}"
                    + (f"; the running version ({current or 'none'}) is untouched" if step in STEPS else ""),
                    hint=result.get("hint"))
            raise self.failure(failed, result.get("message", "failed"), current=current, hint=result.get("hint"))
        return result

    def failure(self, step: str, message: str, *, current: str | None = None, hint: str | None = None,
                stderr: str = "", known: bool = True) -> RemoteError:
        """known=False: the device was not reached, so what runs there is not known (never say 'none')."""
        text = f"{self.target}: step '{step}' failed: {message}"
        if not known:
            text += "; nothing on the device was changed"
        elif step in STEPS or step == "rollback":
            text += f"; the running version ({current or 'none'}) is untouched"
        if hint is None and "disk is full" in message:
            hint = f"free space on the device (`df -h {self.remote_dir}`; old releases are in releases/), then retry"
        elif hint is None and ("read-only file system" in message or "refused to write" in message):
            hint = (f"make {self.remote_dir} writable for the ssh user (or remount it read-write), or give "
                    "--remote-dir a writable folder")
        elif hint is None and "host key" in message:
            hint = host_key_hint(self.target)
        elif hint is None and step == "connect":
            hint = f"check `{self.target.ssh_command('true')}` works (host, user, key, ssh config)"
        elif hint is None and step in STEPS:
            hint = "run the deploy again; nothing was switched"
        elif hint is None:
            hint = f"check the device with `edgelift device info --host {self.target}`, then retry"
        err = RemoteError(text, hint=hint)
        err.step = step  # type: ignore[attr-defined]
        return err

    def state(self, step: str = "connect", *, lock: bool = False) -> dict[str, str | None]:
        """current/previous releases and the device's Python version (one connection); with `lock`, also
        take the device's deploy lock (edgelift.device.remote.lock: one whose heartbeat stopped is taken over)."""
        since = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        owner = _q(f"{socket.gethostname()} pid {os.getpid()} since {since}")
        take = take_script(_q(self.path(".lock")), owner, _q(self.path("staging"))) if lock else ""
        probe = _q(self.path(".write-probe")) + ".$$"
        # a deploy must write here: name a read-only or full folder now, not as a lock that 'is busy'
        writable = (f"if ! err=$({{ mkdir -p -- {_q(self.path('releases'))} {_q(self.path('staging'))} && "
                    f": > {probe}; }} 2>&1); then echo \"unwritable=$(printf '%s' \"$err\" | tail -n 1)\"; "
                    f"rm -f -- {probe}; exit 0; fi; rm -f -- {probe}\n") if lock else \
            f"mkdir -p {_q(self.path('releases'))} {_q(self.path('staging'))} || exit 3\n"
        script = (self.python_setup() + writable + take
                  + f"echo current=$(readlink {_q(self.path('current'))} || true)\n"
                  + f"echo previous=$(readlink {_q(self.path('previous'))} || true)\n"
                  + 'echo python=$("$PY" -c "import sys; print(\'%d.%d.%d\' % sys.version_info[:3])" 2>/dev/null'
                  + " || echo missing)\n")
        out = self.shell(step, script, timeout=120, known=False)
        state: dict[str, str | None] = {}
        for line in out.splitlines():
            key, _, value = line.partition("=")
            if key in ("current", "previous", "python", "lock", "owner", "unwritable"):
                state[key] = value.strip() or None
        if "unwritable" in state:
            from .ssh import describe_failure

            raise self.failure(step, f"cannot write to the install dir {self.remote_dir}: "
                               + describe_failure(1, state["unwritable"] or "permission denied"), known=False)
        for key in ("current", "previous"):
            if state.get(key):
                state[key] = state[key].rsplit("/", 1)[-1]  # type: ignore[union-attr]
        return state

    def check_lock(self, state: dict[str, Any], step: str = "connect") -> None:
        if state.get("lock") != "taken":
            raise self.failure(step, f"another deploy or rollback is in progress on this device "
                               f"({state.get('owner') or 'owner unknown'})", current=state.get("current"),
                               hint=f"wait for it to finish (a deploy that died releases the device {STALE_MIN} "
                               "minutes after its last heartbeat)")

    def heartbeat(self) -> Heartbeat:
        """Keeps this client's lock alive while a `with` block runs (see edgelift.device.remote.lock)."""
        return Heartbeat(self.connection, _q(self.path(".lock")))

    def unlock_script(self) -> str:
        return f"rm -rf -- {_q(self.path('.lock'))}\n"

    def check_python(self, state: dict[str, Any], step: str = "connect") -> None:
        version = state.get("python")
        if not version or version == "missing":
            raise self.failure(step, f"the device's Python {self.python_label()!r} was not found or did not run",
                               current=state.get("current"),
                               hint="install python3 (3.9+) on the device or give --remote-python PATH")
        if tuple(int(x) for x in version.split(".")[:2]) < (3, 9):
            raise self.failure(step, f"the device's Python {self.python_label()!r} is {version}; the agent needs 3.9+",
                               current=state.get("current"), hint="give a newer interpreter with --remote-python")


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


def make_device(connection: Connection, *, remote_dir: str = DEFAULT_REMOTE_DIR,
                remote_python: str | None = None) -> Device:
    """A device reached through `connection`, with edgelift's folder and Python on it."""
    if not isinstance(connection, Connection):
        raise TypeError(f"make_device takes a Connection, got {type(connection).__name__}; "
                        "public functions convert a host string with connection_for")
    return Device(connection, remote_dir=remote_dir, remote_python=remote_python)


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


def deploy(model_or_bundle: str | os.PathLike, host: str | Connection | None = None, *,
           hosts: str | os.PathLike | None = None, group: str | None = None, target: str = "rpi4", ssh_config=None,
           identity=None, accept_new_host_key: bool = False, remote_dir: str = DEFAULT_REMOTE_DIR,
           remote_python: str | None = None, install_runtime: bool = False, wheels: str | os.PathLike | None = None,
           concurrency: int = 4,
           keep: int = KEEP_RELEASES, progress: Callable[[str], None] | None = None,
           self_check_atol: float | None = None):
    """Install a model (.tflite, bundled on the fly for `target`) or a bundle folder on a device.

    One device: ``host="[user@]host[:port]"`` or a Connection → DeployResult (raises RemoteError naming the
    failed step).
    A fleet: ``hosts=FILE`` (one host per line, or an Ansible INI inventory; ``group`` picks a [group]) →
    FleetResult (never raises for one device's failure; see ``.ok``).
    """
    if (host is None) == (hosts is None):
        raise InvalidArgumentError("give exactly one of host= or hosts=",
                                   hint="--host [user@]host[:port] for one device, --hosts FILE for a fleet")
    if keep < 1:
        raise InvalidArgumentError(f"keep must be at least 1, got {keep}", hint="keep=3 keeps three releases")
    ssh = dict(ssh_config=ssh_config, identity=identity, accept_new_host_key=accept_new_host_key)
    # every argument is checked before any work (bundling, connecting) starts
    if hosts is not None:
        from .fleet import deploy_fleet, read_hosts

        fleet = read_hosts(hosts, group)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be a positive integer, got {concurrency!r}",
                                       hint="e.g. --concurrency 4")
        connection = connection_for(fleet[0].target, **ssh)  # the canary's; the others share its settings
        device = None
    else:
        device = make_device(connection_for(host, **ssh), remote_dir=remote_dir, remote_python=remote_python)
    if wheels is not None and not Path(wheels).is_dir():
        raise ModelNotFoundError(f"wheels folder {str(wheels)!r} does not exist",
                                 hint="give a folder of aarch64 wheels (pip download --platform ...)")
    with tempfile.TemporaryDirectory(prefix="edgelift-deploy-") as work:
        local, manifest = prepare_bundle(model_or_bundle, target, work, self_check_atol)
        if device is None:
            return deploy_fleet(local, manifest, fleet, connection=connection, remote_dir=remote_dir,
                                remote_python=remote_python, concurrency=concurrency, keep=keep,
                                install_runtime=install_runtime, wheels=wheels, progress=progress)
        return deploy_bundle(device, local, manifest, install_runtime=install_runtime, wheels=wheels, keep=keep,
                             progress=progress)


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


def rollback(host: str | Connection, *, ssh_config=None, identity=None, accept_new_host_key: bool = False,
             remote_dir: str = DEFAULT_REMOTE_DIR, remote_python: str | None = None) -> DeployResult:
    """Switch `current` back to `previous` (and `previous` to what was current), after re-verifying it."""
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    return rollback_device(make_device(connection, remote_dir=remote_dir, remote_python=remote_python))


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


# ------------------------------------------------------------------------------------------ remote commands


def has_runtime(device: Device, *, current: str | None = None) -> bool:
    """Whether the device's Python (as python_setup picks it) imports numpy and a TFLite runtime."""
    probe = ("\"$PY\" -c 'import numpy\ntry:\n import tflite_runtime.interpreter\nexcept ImportError:\n"
             " import ai_edge_litert.interpreter' 2>/dev/null && echo have-runtime\ntrue\n")
    return "have-runtime" in device.shell("install-runtime", device.python_setup() + probe, current=current)


def ensure_runtime(device: Device, *, wheels: str | os.PathLike | None = None, current: str | None = None) -> str:
    """Make sure the device's Python has numpy and a TFLite runtime (only called when the user asked for it).

    If the chosen Python (--remote-python, else ``<remote_dir>/venv/bin/python``, else python3) already has
    them, nothing changes. Otherwise ``<remote_dir>/venv`` is created from it and tflite-runtime + numpy are
    installed there: from `wheels` (a local folder of aarch64 wheels, uploaded; pip ``--no-index``) or from
    PyPI on the device. Returns the Python path (on the device) that deploy then uses.
    """
    if has_runtime(device, current=current):
        return device.remote_python or "(default)"
    base_python = device.remote_python or "python3"
    venv = device.path("venv")
    vpy = device.path("venv", "bin", "python")
    pip = [vpy, "-m", "pip", "install", "-q", *RUNTIME_PINS]
    if wheels is not None:
        wheels = Path(wheels)
        if not wheels.is_dir():
            raise ModelNotFoundError(f"wheels folder {str(wheels)!r} does not exist",
                                     hint="give a folder of aarch64 wheels (pip download --platform ...)")
        remote_wheels = device.path("wheels")
        device.shell("install-runtime", f"rm -rf -- {_q(remote_wheels)}", current=current)
        try:
            device.connection.upload_tree(wheels, remote_wheels, timeout=600)
        except SSHError as exc:
            raise device.failure("install-runtime", str(exc), current=current) from None
        pip += ["--no-index", "--find-links", remote_wheels]
    script = (f"{_q(remote_path(base_python))} -m venv {_q(venv)} || exit 90\n"
              + " ".join(_q(a) for a in pip) + "\n")
    try:
        device.connection.run(script, timeout=1800)
    except SSHError as exc:
        if exc.returncode == 90:
            raise device.failure("install-runtime", f"`{base_python} -m venv` failed on the device: "
                                 + (exc.stderr.strip().splitlines() or ["no message"])[-1], current=current,
                                 hint="install the venv module (Raspberry Pi OS / Debian: sudo apt install "
                                 "python3-venv), then deploy again with --install-runtime") from None
        raise device.failure("install-runtime", f"pip could not install {' '.join(RUNTIME_PINS)}: {exc}",
                             current=current, hint="check the device reaches PyPI, or give --wheels DIR with "
                             "aarch64 wheels (pip download --only-binary=:all: --platform "
                             "manylinux2014_aarch64 --python-version 3.11 tflite-runtime==2.14.0 "
                             "numpy==1.26.4 -d DIR)") from None
    device.remote_python = vpy
    return vpy


def device_info(host: str | Connection, *, ssh_config=None, identity=None, accept_new_host_key: bool = False,
                remote_dir: str = DEFAULT_REMOTE_DIR, remote_python: str | None = None) -> dict[str, Any]:
    """The device's CPU, NEON/dot product, governor, temperature, throttling, Python, runtimes, memory, disk,
    and what edgelift has installed there (current/previous release)."""
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    return describe_device(make_device(connection, remote_dir=remote_dir, remote_python=remote_python))


def describe_device(device: Device) -> dict[str, Any]:
    """`device_info` on a Device already made."""
    state = device.state("connect")
    device.check_python(state)
    info = device.agent("info", "-", ["info", "--dir", device.base], stdin_script=True)
    info.pop("stderr", None)
    info.update(host=str(device.target), current=state.get("current"), previous=state.get("previous"),
                remote_dir=device.remote_dir)
    return info


def format_info(info: dict[str, Any]) -> str:
    cpu, cond, rt = info["cpu"], info["conditions"], info["runtimes"]

    def size(n):
        return f"{n / 2**30:.1f} GiB" if n is not None else "unknown"

    thr = cond.get("throttled")
    if thr is None:
        throttle = "unknown (no vcgencmd)"
    else:
        throttle = (", ".join(thr["now"]) or "no") + (f"; since boot: {', '.join(thr['since_boot'])}"
                                                      if thr["since_boot"] else "") + f" ({thr['raw']})"
    runtimes = ", ".join(f"{k} {v}" for k, v in rt.items() if v) or "none"
    lines = [
        f"host         {info['host']}",
        f"board        {cpu.get('board') or 'unknown'}",
        f"cpu          {cpu.get('cpu') or 'unknown'} x {cpu.get('cores')} ({cpu.get('machine')})",
        f"neon         {'yes' if cpu.get('neon') else 'no'}; dot product: {'yes' if cpu.get('dotprod') else 'no'}",
        f"governor     {cond.get('governor') or 'unknown'}"
        + (f" ({cond['cpu_mhz']} MHz)" if cond.get("cpu_mhz") else ""),
        f"temperature  {cond['temperature_c']:.1f} C" if cond.get("temperature_c") is not None
        else "temperature  unknown",
        f"throttled    {throttle}",
        f"python       {info['python']} ({info['python_executable']})",
        f"runtimes     {runtimes}",
        f"memory       {size(cond.get('mem_available_bytes'))} available of {size(cond.get('mem_total_bytes'))}",
        f"disk         {size(cond.get('disk_free_bytes'))} free",
        f"deployed     {info.get('current') or 'nothing'}"
        + (f" (previous: {info['previous']})" if info.get("previous") else ""),
    ]
    integrity = info.get("integrity")
    if integrity is not None:
        lines.append(f"integrity    {'ok' if integrity['ok'] else 'FAILED'}: {integrity['message']}"
                     + ("" if integrity["ok"] else " — deploy again (and check the SD card if it repeats)"))
    if not any(rt.get(k) for k in ("tflite-runtime", "ai-edge-litert")):
        lines.append(f"no TFLite runtime: {info.get('install_hint')}")
    return "\n".join(lines)


def _read_input_bytes(inputs) -> bytes:
    import numpy as np

    if isinstance(inputs, (str, os.PathLike)):
        path = Path(inputs)
        if not path.is_file():
            raise ModelNotFoundError(f"input file {str(path)!r} does not exist", hint="give a .npy or .npz file")
        data = path.read_bytes()
        if not (data[:6] == b"\x93NUMPY" or data[:2] == b"PK"):
            raise DataError(f"input {str(path)!r} is not a .npy or .npz file",
                            hint="save the array with numpy.save (one input) or numpy.savez (several)")
        return data
    arrays = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    buf = io.BytesIO()
    if len(arrays) == 1:
        np.save(buf, np.asarray(arrays[0]), allow_pickle=False)
    else:
        np.savez(buf, *[np.asarray(a) for a in arrays])
    return buf.getvalue()


def run_remote(host: str | Connection, inputs, *, delegate: str | None = None, threads: int = 1, ssh_config=None,
               identity=None, accept_new_host_key: bool = False, remote_dir: str = DEFAULT_REMOTE_DIR,
               remote_python: str | None = None) -> tuple[list, dict[str, Any]]:
    """Run the deployed model (`current`) on the device: inputs (array, list of arrays, or .npy/.npz path)
    → (outputs as numpy arrays, result metadata: runtime, delegate, partition, latency_ms)."""
    if delegate not in (None, "neon", "builtin", "xnnpack"):
        raise InvalidArgumentError(f"unknown delegate {delegate!r}; allowed: neon, builtin, xnnpack",
                                   hint="leave it out for the one the bundle's self-check validated")
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    data = _read_input_bytes(inputs)
    device = make_device(connection, remote_dir=remote_dir, remote_python=remote_python)
    return run_on(device, data, delegate=delegate, threads=threads)


def run_on(device: Device, data: bytes, *, delegate: str | None = None,
           threads: int = 1) -> tuple[list, dict[str, Any]]:
    """`run_remote` on a Device already made, with the input as .npy/.npz bytes."""
    import numpy as np

    cur = device.path("current")
    result = device.agent("run", f"{cur}/{AGENT_PATH}",
                          ["run", "--bundle", cur, *(["--delegate", delegate] if delegate else []),
                           "--threads", str(threads)], input=data)
    with np.load(io.BytesIO(base64.b64decode(result.pop("npz_base64"))), allow_pickle=False) as npz:
        outputs = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    return outputs, result


def bench_remote(host: str | Connection, model_or_bundle: str | os.PathLike | None = None, *, target: str = "rpi4",
                 delegates: str = "neon,builtin,xnnpack", runs: int = 50, warmup: int = 3, threads: int = 1,
                 ssh_config=None, identity=None, accept_new_host_key: bool = False,
                 remote_dir: str = DEFAULT_REMOTE_DIR, remote_python: str | None = None,
                 max_seconds: float = 120.0) -> dict[str, Any]:
    """Latency per delegate measured on the device, with its conditions before/after (a warning when throttled).

    With `model_or_bundle` the model is uploaded to a scratch folder (not installed); without, `current` is
    measured.
    """
    names = [d.strip() for d in delegates.split(",") if d.strip()]
    bad = [d for d in names if d not in ("neon", "builtin", "xnnpack")]
    if bad or not names:
        raise InvalidArgumentError(f"unknown remote delegate(s) {bad or delegates!r}; allowed: neon, builtin, xnnpack",
                                   hint="e.g. --delegate neon,builtin,xnnpack")
    if runs < 1 or warmup < 0:
        raise InvalidArgumentError(f"runs must be >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}",
                                   hint="e.g. --runs 50 --warmup 3")
    connection = connection_for(host, ssh_config=ssh_config, identity=identity,
                                accept_new_host_key=accept_new_host_key)
    device = make_device(connection, remote_dir=remote_dir, remote_python=remote_python)
    args = ["bench", "--delegates", ",".join(names), "--runs", str(runs), "--warmup", str(warmup),
            "--threads", str(threads), "--max-seconds", str(max_seconds)]
    if model_or_bundle is None:
        where = device.path("current")
        return _bench_at(device, where, args)
    with tempfile.TemporaryDirectory(prefix="edgelift-bench-") as work:
        local, manifest = prepare_bundle(model_or_bundle, target, work)
        state = device.state("connect")
        device.check_python(state)
        scratch = device.path("staging", f"bench-{manifest['bundle_id']}-{os.getpid()}")
        try:
            device.connection.upload_tree(local, scratch, timeout=600)
        except SSHError as exc:
            raise device.failure("upload", str(exc)) from None
        try:
            return _bench_at(device, scratch, args)
        finally:
            device.connection.run(f"rm -rf -- {_q(scratch)}", check=False, timeout=30)


def _bench_at(device: Device, where: str, args: list[str]) -> dict[str, Any]:
    result = device.agent("bench", f"{where}/{AGENT_PATH}", [*args[:1], "--bundle", where, *args[1:]], timeout=900)
    result.pop("stderr", None)
    result["host"] = str(device.target)
    return result


def format_bench(result: dict[str, Any]) -> str:
    rows = [f"bench on {result['host']} ({result['model']}, bundle {result.get('bundle_id')})",
            f"{'delegate':<9} {'median ms':>10} {'p10 ms':>9} {'p90 ms':>9} {'runs':>5} {'vs builtin':>10}  partition"]
    for r in result["results"]:
        if "error" in r:
            rows.append(f"{r['delegate']:<9} error: {r['error']}")
            continue
        ratio = f"{r['speedup_vs_builtin']:.2f}x" if "speedup_vs_builtin" in r else "-"
        rows.append(f"{r['delegate']:<9} {r['median_ms']:>10.3f} {r['p10_ms']:>9.3f} {r['p90_ms']:>9.3f} "
                    f"{r['runs']:>5} {ratio:>10}  {r.get('partition') or r.get('xnnpack') or ''}")
    c = result["conditions_after"]
    cpu = result.get("cpu") or {}
    temp = f"{c['temperature_c']:.1f} C" if c.get("temperature_c") is not None else "unknown"
    thr = c.get("throttled")
    yes = {True: "yes", False: "no"}
    rows.append(f"device: {cpu.get('cpu') or 'unknown CPU'} x {cpu.get('cores')}, NEON {yes[bool(cpu.get('neon'))]}"
                f", dot product {yes[bool(cpu.get('dotprod'))]}; governor {c.get('governor') or 'unknown'}"
                + (f" {c['cpu_mhz']} MHz" if c.get("cpu_mhz") else "") + f", temperature {temp}, throttled "
                + ("unknown (no vcgencmd)" if thr is None else (", ".join(thr["now"]) or "no")))
    rows += [f"warning: {w}" for w in result.get("warnings", [])]
    return "\n".join(rows)


__all__ = ["DEFAULT_REMOTE_DIR", "DeployResult", "Device", "bench_remote", "deploy", "device_info", "ensure_runtime",
           "format_bench", "format_info", "make_device", "rollback", "rollback_device", "run_on",
           "run_remote", "describe_device"]
