"""An emulated Raspberry Pi reachable over SSH: a loopback OpenSSH server plus the qemu userland of pi_root.

    with start("pi4") as pi:            # builds or reuses .cache/emulated-pi, starts sshd on 127.0.0.1
        edgelift.deploy("m.tflite", pi.alias, ssh_config=pi.ssh_config, remote_python=pi.python)
    # sshd is stopped here

`edgelift emulate pi4|pi5` is the same from the command line. The server is an ordinary process of the current
user (`sshd -D -e -f CONFIG`): its own host key, a generated client key, an ssh config with the host alias
`emulated-pi4` (port, key and known_hosts), all in a folder of their own — never ~/.ssh. Logins run the
device's "python3" as a launcher: Debian bookworm arm64 Python 3.11 with ai-edge-litert 2.3 (what Pi users
install) under qemu 10, `-cpu cortex-a72` for a Pi 4, `-cpu cortex-a76` for a Pi 5. It is the host: the
device's install folder is a folder of this machine, and qemu timings are not a Pi's.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import InvalidArgumentError, RuntimeUnavailableError, ToolUnavailableError
from . import pi_root

SSHD = "/usr/sbin/sshd"
BOARDS = {"pi4": "cortex-a72", "pi5": "cortex-a76"}  # qemu 10 CPU models of the Pi 4's and Pi 5's cores
RUNTIME = "ai-edge-litert-2.3"
START_TIMEOUT_S = 20


@dataclass
class EmulatedPiHost:
    board: str
    dir: Path
    port: int
    alias: str
    ssh_config: Path
    python: Path
    proc: subprocess.Popen | None

    @property
    def deploy_flags(self) -> str:
        return (f"--host {self.alias} --ssh-config {self.ssh_config} --remote-python {self.python} "
                f"--remote-dir {self.dir / 'device'}")

    def describe(self) -> str:
        return (f"emulated {self.board} ({BOARDS[self.board]}, {RUNTIME} under qemu 10) listening on "
                f"127.0.0.1:{self.port}\n"
                f"  ssh:    ssh -F {self.ssh_config} {self.alias}\n"
                f"  deploy: edgelift deploy MODEL.tflite {self.deploy_flags}\n"
                f"  run:    edgelift run {self.deploy_flags} --input x.npy -o y.npy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EmulatedPiHost:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def check_board(board: str) -> str:
    if board not in BOARDS:
        raise InvalidArgumentError(f"unknown board {board!r}; allowed: {', '.join(BOARDS)}",
                                   hint="pi4 emulates a Raspberry Pi 4 (Cortex-A72), pi5 a Pi 5 (Cortex-A76)")
    return board


def check_port(port: int | None) -> int | None:
    if port is None:
        return None
    if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
        raise InvalidArgumentError(f"port {port!r} is not a number from 1024 to 65535",
                                   hint="leave --port out to take a free one")
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise InvalidArgumentError(f"port {port} on 127.0.0.1 is not free ({exc.strerror})",
                                       hint="choose another --port, or leave it out to take a free one") from None
    return port


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgelift-emulated-pi", "-f", str(path)],
                   check=True, capture_output=True)


def _launcher(cache: Path, board: str, folder: Path) -> Path:
    """The device's python3: the LiteRT 2.3 launcher with the board's CPU (QEMU_CPU still overrides it)."""
    path = folder / "python3"
    path.write_text("#!/bin/sh\n# edgelift emulate: the emulated Pi's python3 (generated)\n"
                    f"QEMU_CPU=\"${{QEMU_CPU:-{BOARDS[board]}}}\"\nexport QEMU_CPU\n"
                    f"exec '{cache / 'bin' / f'python3-{RUNTIME}'}' \"$@\"\n")
    path.chmod(0o755)
    return path


def start(board: str = "pi4", *, folder: str | os.PathLike | None = None, port: int | None = None,
          cache: Path | None = None) -> EmulatedPiHost:
    """Start the emulated `board` (pi4, pi5) behind a loopback sshd; stop it with `.stop()` (or `with`)."""
    check_board(board)
    port = check_port(port)
    for tool in (SSHD, shutil.which("ssh-keygen") or "ssh-keygen"):
        if not os.access(tool, os.X_OK):
            raise ToolUnavailableError(f"{tool} is not installed",
                                       hint="install OpenSSH with `make system-deps` (.ci/system-deps.sh)")
    try:
        cache = pi_root.build(cache or pi_root.DEFAULT_CACHE)
    except pi_root.SetupError as exc:
        raise RuntimeUnavailableError(f"the emulated Pi could not be built: {exc}",
                                      hint="run `make system-deps`, then `make emulated-pi`") from None
    base = Path(folder) if folder is not None else cache / "hosts" / board
    base.mkdir(parents=True, exist_ok=True)
    (base / "device").mkdir(exist_ok=True)
    _keygen(base / "host_ed25519")
    _keygen(base / "id_ed25519")
    shutil.copyfile(base / "id_ed25519.pub", base / "authorized_keys")
    python = _launcher(cache, board, base)
    port = port or _free_port()
    user = getpass.getuser()
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_ed25519'}\nPidFile {base / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\nUsePAM no\nStrictModes no\n"
        f"PermitRootLogin {'yes' if os.geteuid() == 0 else 'no'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nMaxStartups 32\nMaxSessions 32\n"
        "LogLevel ERROR\nSubsystem sftp internal-sftp\n")
    host_pub = " ".join((base / "host_ed25519.pub").read_text().split()[:2])
    (base / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    alias = f"emulated-{board}"
    ssh_config = base / "ssh_config"
    ssh_config.write_text(
        f"Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n  IdentityFile {base / 'id_ed25519'}\n"
        f"  IdentitiesOnly yes\n  UserKnownHostsFile {base / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  UpdateHostKeys no\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd as root needs its privilege-separation folder
    with open(base / "sshd.log", "wb") as log:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    host = EmulatedPiHost(board=board, dir=base, port=port, alias=alias, ssh_config=ssh_config, python=python,
                          proc=proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = " ".join((base / "sshd.log").read_text(errors="replace").split())[-300:]
            raise RuntimeUnavailableError(f"sshd exited {proc.returncode} at start: {said or 'no message'}",
                                          hint=f"see {base / 'sshd.log'}; another --port may help")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return host
        time.sleep(0.05)
    host.stop()
    raise RuntimeUnavailableError(f"sshd did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S} s",
                                  hint=f"see {base / 'sshd.log'}")


def wait_for_signal(host: EmulatedPiHost) -> int:
    """Block until SIGINT/SIGTERM (or sshd exits), then stop; returns sshd's fate as an exit code (0 = stopped)."""
    stopping = []

    def _stop(signum, _frame):
        stopping.append(signum)

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping and host.proc is not None and host.proc.poll() is None:
            with contextlib.suppress(InterruptedError):
                time.sleep(0.2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        died = host.proc is not None and host.proc.poll() is not None and not stopping
        host.stop()
    return 4 if died else 0
