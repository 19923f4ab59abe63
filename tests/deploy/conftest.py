"""A real OpenSSH server on loopback for the deploy tests, with its own keys and config (never ~/.ssh).

`sshd` starts /usr/sbin/sshd as an ordinary process (`-D -e -f <config>`) on 127.0.0.1 and a free port, as the
current user (root here, so `PermitRootLogin yes`), with a generated host key, a generated user key in
`AuthorizedKeysFile`, and `UsePAM no` / `StrictModes no`. Clients use a generated ssh config passed to
edgelift with `ssh_config=` (or `--ssh-config`): host alias `pi` with that port, key and known_hosts.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.artefacts import missing
from tests.emulated_pi.pi import emulated_pi  # noqa: F401  (the session fixture)

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SSHServer:
    dir: Path
    port: int
    user: str
    host_pub: str
    key: Path
    proc: subprocess.Popen

    def client_config(self, name: str = "ssh_config", *, known_hosts: Path | None = None, extra: str = "") -> Path:
        """An ssh config with the alias `pi` (and defaults for any host): our key, our known_hosts."""
        kh = known_hosts if known_hosts is not None else self.known_hosts()
        path = self.dir / name
        path.write_text(
            "Host pi\n"
            "  HostName 127.0.0.1\n"
            f"  Port {self.port}\n"
            f"  User {self.user}\n"
            f"{extra}"
            "Host *\n"
            f"  IdentityFile {self.key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {kh}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  UpdateHostKeys no\n"
        )
        return path

    def known_hosts(self) -> Path:
        path = self.dir / "known_hosts"
        if not path.exists():
            path.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        return path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgelift-test", "-f", str(path)],
                   check=True, capture_output=True)


def start_sshd(base: Path, extra_config: str = "") -> SSHServer:
    if not os.access(SSHD, os.X_OK):
        missing(SSHD, "Debian openssh-server: `make system-deps` (.ci/system-deps.sh) installs it")
    base.mkdir(parents=True, exist_ok=True)
    user = getpass.getuser()
    _keygen(base / "host_ed25519")
    _keygen(base / "id_ed25519")
    shutil.copyfile(base / "id_ed25519.pub", base / "authorized_keys")
    port = free_port()
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {base / 'host_ed25519'}\n"
        f"PidFile {base / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\n"
        "UsePAM no\n"
        "StrictModes no\n"
        f"PermitRootLogin {'yes' if os.geteuid() == 0 else 'no'}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\n"
        "MaxStartups 64\n"
        "MaxSessions 64\n"
        "LogLevel ERROR\n"
        "Subsystem sftp internal-sftp\n"
        + extra_config
    )
    if os.geteuid() == 0:
        # sshd running as root needs its privilege-separation directory (Debian's package creates it at boot)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = open(base / "sshd.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited {proc.returncode}: {(base / 'sshd.log').read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("sshd did not start listening within 20 s")
    host_pub = " ".join((base / "host_ed25519.pub").read_text().split()[:2])
    return SSHServer(dir=base, port=port, user=user, host_pub=host_pub, key=base / "id_ed25519", proc=proc)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ssh_config(sshd) -> Path:
    return sshd.client_config()


@pytest.fixture(scope="session")
def pi_python(emulated_pi) -> str:  # noqa: F811 (the imported fixture, requested by name)
    """The emulated Pi's aarch64 python3.11 (tflite-runtime 2.14, numpy 1.26) as the device's --remote-python."""
    return str(emulated_pi.launcher("tflite-runtime"))


@pytest.fixture(scope="session")
def pi_python_litert23(emulated_pi) -> str:  # noqa: F811 (the imported fixture, requested by name)
    """The emulated Pi's python3.11 with ai-edge-litert 2.3 (what Pi users install now), under qemu 10."""
    return str(emulated_pi.launcher("ai-edge-litert-2.3"))


def litert_builtin(model_path, inputs):
    """The desktop reference, computed here directly with LiteRT (not through edgelift)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(model_path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), inputs, strict=True):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    return [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]


def two_conv_models(folder: Path) -> tuple[Path, Path]:
    """Two different int8 conv models, a then b: what the deploy tests switch a device between."""
    from tests import modelkit

    a, b = folder / "conv_a.tflite", folder / "conv_b.tflite"
    a.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    b.write_bytes(modelkit.cached("int8", modelkit.conv2d, filters=5, activation="relu", seed=1))
    return a, b


def release(remote: Path, link: str = "current") -> str | None:
    """The release a device folder's link (current or previous) points at, or None."""
    path = remote / link
    return Path(os.readlink(path)).name if path.is_symlink() else None
