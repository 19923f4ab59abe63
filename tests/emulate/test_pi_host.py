"""`edgelift emulate pi4|pi5`: a real sshd on loopback in front of the emulated Pi; a real ssh login runs the
aarch64 Python with LiteRT 2.3 on the board's CPU; SIGTERM stops it; bad input is one line and exit 2."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from edgelift.cli import main
from edgelift.device.emulate import pi_host
from edgelift.errors import InvalidArgumentError
from tests.emulated_pi.pi import emulated_pi  # noqa: F401  (the session fixture)

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]

PROBE = ("import platform, os; from importlib.metadata import version; "
         "print(platform.machine(), version('ai-edge-litert'), os.environ.get('QEMU_CPU'))")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("board", ["pi5"])
def test_cli_prints_a_target_that_ssh_reaches_and_stops_on_sigterm(tmp_path, board, emulated_pi):  # noqa: F811
    proc = subprocess.Popen([sys.executable, "-m", "edgelift", "emulate", board, "--dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[0].startswith(f"emulated {board} (cortex-a76, ai-edge-litert-2.3 under qemu 10)"), lines
        port = int(lines[0].rsplit(":", 1)[1])
        assert _listening(port)
        ssh = lines[1].split("ssh:", 1)[1].split()
        assert "--remote-python" in lines[2] and f"--host emulated-{board}" in lines[2]
        python = lines[2].split("--remote-python ", 1)[1].split()[0]
        got = subprocess.run([*ssh, python, "-c", f'"{PROBE}"'], capture_output=True, text=True, timeout=300)
        assert got.returncode == 0 and got.stdout.split() == ["aarch64", "2.3.0", "cortex-a76"], got.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert "stopped the emulated pi5" in proc.stderr.read() and not _listening(port)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["emulate", "pi3"]) == 2
    assert "'pi3' is not one of 'pi4', 'pi5'" in capsys.readouterr().err
    assert main(["emulate", "pi4", "--port", "80", "--dir", str(tmp_path / "a")]) == 2
    assert "port 80 is not a number from 1024 to 65535" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["emulate", "pi4", "--port", str(port), "--dir", str(tmp_path / "b")]) == 2
        assert f"port {port} on 127.0.0.1 is not free" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    with pytest.raises(InvalidArgumentError, match="unknown board 'rpi4'"):
        pi_host.start("rpi4")


def test_api_start_stop_as_a_context(tmp_path, emulated_pi):  # noqa: F811
    with pi_host.start("pi4", folder=tmp_path) as host:
        assert _listening(host.port) and host.python.read_text().count("cortex-a72") == 1
        assert os.access(host.python, os.X_OK)
    assert not _listening(host.port) and host.proc.poll() is not None
