"""A thin wrapper over the system OpenSSH client (`ssh`), with argv lists and quoted remote arguments.

Everything goes through the user's own `ssh`, so `~/.ssh/config` (host aliases, keys, ports, ProxyJump),
`known_hosts` and agents work as they do in a terminal. edgelift adds only:

- ``BatchMode=yes``: never prompt (a password prompt would hang a deploy);
- ``StrictHostKeyChecking=yes``: an unknown or changed host key is refused, unless the user asked for
  ``accept_new_host_key`` (then ``accept-new``: a *new* key is recorded, a *changed* one is still refused);
- ``-F FILE`` when an ssh config is given (``ssh_config=`` or the ``EDGELIFT_SSH_CONFIG`` environment variable).

Local processes are always started with argv lists (never a local shell); every remote argument is quoted
with `shlex.quote`, because the remote side always hands the command line to the login shell.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...errors import InvalidArgumentError, ModelNotFoundError, RemoteError

SSH_CONFIG_ENV = "EDGELIFT_SSH_CONFIG"
DEFAULT_CONNECT_TIMEOUT = 15

# a user name as POSIX allows it portably (no shell metacharacters: `$(...)` in a user@ part was passed on)
_HOST_RE = re.compile(r"^(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9._-]{0,63})@)?"
                      r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.%-]+)(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class Target:
    """One device: ``[user@]host[:port]`` (host may be an alias from the ssh config)."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Target:
        spec = str(spec).strip()
        m = _HOST_RE.match(spec)
        if not m:
            raise InvalidArgumentError(
                f"cannot read the host {spec!r}; allowed: [user@]host[:port] with a user of letters, digits, "
                "'.', '_', '-' (host may be an ssh config alias)",
                hint="for example --host pi@raspberrypi.local or --host pi@192.168.1.20:2222",
            )
        port = m.group("port")
        if port is not None and not 1 <= int(port) <= 65535:
            raise InvalidArgumentError(f"port {port} in host {spec!r} is outside 1..65535",
                                       hint="give a TCP port from 1 to 65535, or leave it out for 22")
        host = m.group("host")
        if host.startswith("["):
            host = host[1:-1]
        return cls(host=host, user=m.group("user"), port=int(port) if port else None)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6: bracketed, so it reads back
        text = f"{self.user}@{host}" if self.user else host
        if self.port:
            text += f":{self.port}"
        return text

    def ssh_command(self, *args: str) -> str:
        """The `ssh` command line that reaches this target, to paste into a shell (ssh spells the port -p)."""
        dest = f"{self.user}@{self.host}" if self.user else self.host
        return quote(["ssh", *(["-p", str(self.port)] if self.port else []), dest, *args])


def quote(args: Sequence[str]) -> str:
    """One remote command line from an argv list: every argument quoted for the remote POSIX shell."""
    return " ".join(shlex.quote(str(a)) for a in args)


@dataclass
class SSHError(Exception):
    """Internal: a failed ssh invocation (the caller turns it into a RemoteError naming the step)."""

    returncode: int
    stderr: str
    stdout: str = ""

    def __str__(self) -> str:
        return describe_failure(self.returncode, self.stderr)


def describe_failure(returncode: int, stderr: str) -> str:
    """One readable line for a failed ssh run, recognising the connection-level failures."""
    err = stderr.strip()
    low = err.lower()
    if any(k in low for k in ("host key verification failed", "no matching host key", "identification has changed")):
        return "the device's host key is unknown or has changed, so the connection was refused (ssh: " \
               + _last_line(err) + ")"
    # a remote command that could not write (exit 1/2 of mkdir/tar/touch), not a refused login (ssh exits 255)
    if "no space left on device" in low or "disk quota exceeded" in low:
        return "the device's disk is full (" + _line_with(err, ("no space left", "quota exceeded")) + ")"
    if "read-only file system" in low:
        return "the device's folder is on a read-only file system (" + _line_with(err, ("read-only",)) + ")"
    if "permission denied" in low and returncode != 255:
        return "the device refused to write there: permission denied (" + _line_with(err, ("permission",)) + ")"
    if "permission denied" in low:
        return "ssh login was refused (permission denied): no key the device accepts (ssh: " + _last_line(err) + ")"
    if "connection refused" in low or "could not resolve" in low or "timed out" in low or "no route" in low:
        return "cannot reach the device (ssh: " + _last_line(err) + ")"
    if returncode == 255:
        return "the ssh connection failed or was cut (ssh exit 255" + (": " + _last_line(err) if err else "") + ")"
    return f"the remote command exited with status {returncode}" + (": " + _last_line(err) if err else "")


def _line_with(text: str, phrases: tuple[str, ...]) -> str:
    """The first line naming the cause (tar's last line is 'Exiting with failure status ...')."""
    for line in text.splitlines():
        if any(p in line.lower() for p in phrases):
            return line.strip()
    return _last_line(text)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def host_key_hint(target: Target) -> str:
    return (f"check the device's key fingerprint, then connect once with `{target.ssh_command()}` to record it, "
            "or pass --accept-new-host-key to record a new (never a changed) key")


@dataclass(frozen=True)
class Connection:
    """How to reach one device with the system `ssh`, checked once when it is made.

    ``target``: ``[user@]host[:port]`` (a string is parsed; a bad one is refused here). ``ssh_config``: an ssh
    config file passed as ``-F`` (default: ``$EDGELIFT_SSH_CONFIG`` if set, else the user's ``~/.ssh/config``
    through ssh's own defaults). ``identity``: an extra ``-i`` key file. ``accept_new_host_key``: record a new
    host key (never a changed one). Every function that reaches a device takes one of these (or a host string,
    turned into one by `connection_for` at the API boundary).
    """

    target: Target
    ssh_config: str | os.PathLike | None = None
    identity: str | os.PathLike | None = None
    accept_new_host_key: bool = False
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    ssh_binary: str = "ssh"
    extra_options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.target, str):
            object.__setattr__(self, "target", Target.parse(self.target))
        elif not isinstance(self.target, Target):
            raise InvalidArgumentError(f"cannot read the host {self.target!r}: expected a '[user@]host[:port]' string",
                                       hint="for example Connection('pi@raspberrypi.local')")
        if self.ssh_config is None and os.environ.get(SSH_CONFIG_ENV):
            object.__setattr__(self, "ssh_config", os.environ[SSH_CONFIG_ENV])
        _check_readable(self.ssh_config, "ssh config file",
                        f"give an existing, readable file to --ssh-config (or ${SSH_CONFIG_ENV})")
        _check_readable(self.identity, "ssh identity file", "give the private key file the device accepts")
        if isinstance(self.connect_timeout, bool) or not isinstance(self.connect_timeout, int) \
                or self.connect_timeout < 1:
            raise InvalidArgumentError(f"connect timeout {self.connect_timeout!r} is not a positive whole number of "
                                       "seconds", hint=f"leave it out for {DEFAULT_CONNECT_TIMEOUT} s")
        if shutil.which(self.ssh_binary) is None:
            raise RemoteError(f"the OpenSSH client {self.ssh_binary!r} was not found on this machine",
                              hint="install it (Debian/Ubuntu: sudo apt-get install openssh-client)")

    def to(self, target: Target | str) -> Connection:
        """The same ssh settings for another device (a fleet shares them across its inventory)."""
        return replace(self, target=target)

    def base_argv(self) -> list[str]:
        argv = [self.ssh_binary]
        if self.ssh_config is not None:
            argv += ["-F", str(self.ssh_config)]
        if self.identity is not None:
            argv += ["-i", str(self.identity)]
        options = {
            "BatchMode": "yes",
            "StrictHostKeyChecking": "accept-new" if self.accept_new_host_key else "yes",
            "ConnectTimeout": str(self.connect_timeout),
            "ServerAliveInterval": "15",
            "ServerAliveCountMax": "4",
            "LogLevel": "ERROR",
            **self.extra_options,
        }
        for key, value in options.items():
            argv += ["-o", f"{key}={value}"]
        if self.target.port:
            argv += ["-p", str(self.target.port)]
        if self.target.user:
            argv += ["-l", self.target.user]
        # "--" ends ssh's options: a host name can never be read as one
        argv += ["--", self.target.host]
        return argv

    def run(self, args: Sequence[str] | str, *, input: bytes | None = None, stdin=None, check: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess:
        """Run a remote command. A list is quoted argument by argument; a string is sent as a shell script
        (only for fixed scripts of ours whose variable parts were quoted with `quote`)."""
        command = args if isinstance(args, str) else quote(args)
        argv = self.base_argv() + [command]
        try:
            proc = subprocess.run(argv, input=input, stdin=stdin if input is None else None,
                                  capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SSHError(124, f"timed out after {timeout:.0f} s") from exc
        if check and proc.returncode != 0:
            raise SSHError(proc.returncode, proc.stderr.decode("utf-8", "replace"),
                           proc.stdout.decode("utf-8", "replace"))
        return proc

    def upload_tree(self, local_dir: str | os.PathLike, remote_dir: str, *, timeout: float | None = None) -> None:
        """Copy the files under `local_dir` into `remote_dir` (created; must not exist) as one tar stream.

        One connection, no remote globbing: the remote side runs ``mkdir`` then ``tar -x`` into the quoted
        directory. A cut connection leaves a partial directory that the caller discards.
        """
        import tarfile
        import tempfile

        local_dir = Path(local_dir)
        with tempfile.TemporaryFile() as tmp:
            with tarfile.open(fileobj=tmp, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for path in sorted(local_dir.rglob("*")):
                    rel = path.relative_to(local_dir).as_posix()
                    info = tar.gettarinfo(str(path), arcname=rel)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    if path.is_file():
                        with open(path, "rb") as fh:
                            tar.addfile(info, fh)
                    elif path.is_dir():
                        tar.addfile(info)
            tmp.seek(0)
            script = f"mkdir -p -- {shlex.quote(remote_dir)} && tar -x -f - -C {shlex.quote(remote_dir)}"
            self.run(script, stdin=tmp, timeout=timeout)


def _check_readable(path: str | os.PathLike | None, what: str, hint: str) -> None:
    if path is None:
        return
    if not Path(path).is_file():
        raise ModelNotFoundError(f"{what} {str(path)!r} does not exist", hint=hint)
    if not os.access(path, os.R_OK):
        raise ModelNotFoundError(f"{what} {str(path)!r} is not readable by this user", hint=hint)


def connection_for(host: Connection | Target | str, *, ssh_config: str | os.PathLike | None = None,
                   identity: str | os.PathLike | None = None, accept_new_host_key: bool = False) -> Connection:
    """The API boundary: a Connection as given, or one made from a host string and the ssh keywords."""
    if isinstance(host, Connection):
        given = [name for name, value in (("ssh_config", ssh_config), ("identity", identity),
                                          ("accept_new_host_key", accept_new_host_key)) if value]
        if given:
            raise InvalidArgumentError(f"{', '.join(given)} given next to a Connection, which already says how to "
                                       "connect", hint="set them on the Connection, or pass a host string instead")
        return host
    return Connection(host, ssh_config=ssh_config, identity=identity, accept_new_host_key=accept_new_host_key)
