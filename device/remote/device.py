"""One device reached over SSH, and where edgelift lives on it: running scripts and the agent there, reading
its state, taking its deploy lock, and failures that name the step and what still runs.

On the device (``remote_dir``, default ``~/edgelift``)::

    releases/<release>/     one folder per installed bundle (<UTC time>-<bundle id>)
    current -> releases/…   what runs; switched with one rename (`mv -T`), never edited in place
    previous -> releases/…  what ran before; `rollback` swaps the two
    staging/<release>/      an upload in progress (discarded on failure)
    venv/                   only with --install-runtime: a venv with a TFLite runtime and numpy
    .lock/                  the deploy lock (edgelift.device.remote.lock)
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import time
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidArgumentError, RemoteError, RuntimeUnavailableError
from .lock import STALE_MIN, Heartbeat, take_script
from .ssh import Connection, SSHError, Target, host_key_hint

DEFAULT_REMOTE_DIR = "~/edgelift"
MARKER = "@@edgelift@@"
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


def check_remote_dirs(remote_dir, remote_python) -> None:
    """remote_dir (and remote_python, when given) are paths on the device: strings, not empty, no ~user."""
    for name, value in (("remote_dir", remote_dir), ("remote_python", remote_python)):
        if value is None and name == "remote_python":
            continue
        if not isinstance(value, str):
            raise InvalidArgumentError(f"{name} must be a path on the device, got {value!r}",
                                       hint=f"e.g. --{name.replace('_', '-')} ~/edgelift")
        remote_path(value)  # empty and ~user paths are refused with their own line


def make_device(connection: Connection, *, remote_dir: str = DEFAULT_REMOTE_DIR,
                remote_python: str | None = None) -> Device:
    """A device reached through `connection`, with edgelift's folder and Python on it (both checked here, for
    every command and Ansible action, before anything is run there)."""
    if not isinstance(connection, Connection):
        raise TypeError(f"make_device takes a Connection, got {type(connection).__name__}; "
                        "public functions convert a host string with connection_for")
    check_remote_dirs(remote_dir, remote_python)
    return Device(connection, remote_dir=remote_dir, remote_python=remote_python)
