"""Deploy faults on loopback OpenSSH + the emulated Pi: each names its cause in one line, and the running
release survives whole (every file matches its sha256) and runnable.

Faults: a read-only install dir and a read-only staging folder (a read-only bind mount as root, chmod
otherwise), a full disk (a small tmpfs, root only), an unreachable host, and the connection cut right after
the switch ran (sshd's ForceCommand runs the command, then kills its own session).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.device.remote import api as dep
from edgelift.device.remote.device import make_device
from edgelift.device.remote.ssh import Connection
from tests.deploy.conftest import free_port, litert_builtin, release, start_sshd, two_conv_models

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]
ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return two_conv_models(tmp_path_factory.mktemp("fault_models"))


@pytest.fixture(scope="module")
def bundles(models, tmp_path_factory):
    d = tmp_path_factory.mktemp("fault_bundles")
    return tuple(edgelift.bundle(m, target="rpi4", output=d / f"{m.stem}.bundle") for m in models)


def assert_whole(remote: Path, release_name: str) -> None:
    """The release `current` points at, with every file its manifest lists, byte for byte."""
    assert release(remote) == release_name
    folder = remote / "releases" / release_name
    manifest = json.loads((folder / "manifest.json").read_text())
    for rel, meta in manifest["files"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == meta["sha256"], rel


def deploy_cli(capsys, bundle, remote, ssh_config, pi_python, host="pi") -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["deploy", str(bundle.path), "--host", host, "--ssh-config", str(ssh_config), "--remote-dir",
                 str(remote), "--remote-python", pi_python])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The one error line; the rest of stderr is deploy's progress ('pi: connect ok (4.6 s)')."""
    lines = [ln for ln in err.splitlines() if ln.strip() and not re.fullmatch(r"\S+: [\w+-]+ ok.*", ln)]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


class read_only:
    """`path` read-only for the ssh user while the block runs (root: a read-only bind mount; else chmod)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        if ROOT:
            subprocess.run(["mount", "--bind", "-o", "ro", str(self.path), str(self.path)], check=True)
        else:
            self.mode = self.path.stat().st_mode
            self.path.chmod(0o555)

    def __exit__(self, *exc):
        if ROOT:
            subprocess.run(["umount", str(self.path)], check=True)
        else:
            self.path.chmod(self.mode)


@pytest.fixture(scope="module")
def deployed(bundles, ssh_config, pi_python, tmp_path_factory):
    """A device folder running version a."""
    remote = tmp_path_factory.mktemp("faults") / "device"
    first = edgelift.deploy(bundles[0].path, "pi", ssh_config=ssh_config, remote_dir=str(remote),
                            remote_python=pi_python)
    return remote, first.release


def test_read_only_install_dir_is_named_not_a_busy_lock(capsys, deployed, bundles, ssh_config, pi_python, models):
    remote, running = deployed
    with read_only(remote):
        code, _, err = deploy_cli(capsys, bundles[1], remote, ssh_config, pi_python)
    line = one_error_line(err)
    assert code == 4
    assert f"pi: step 'connect' failed: cannot write to the install dir {remote}: " in line, line
    assert ("read-only file system" if ROOT else "permission denied") in line
    assert "another deploy" not in line and "nothing on the device was changed" in line
    assert f"make {remote} writable" in line and "--remote-dir" in line
    assert_whole(remote, running)
    # and it still runs, computing exactly what LiteRT's builtin kernels compute here
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 9, 9, 3)).astype(np.int8)
    outs, _ = dep.run_remote("pi", x, ssh_config=ssh_config, remote_dir=str(remote), remote_python=pi_python)
    np.testing.assert_array_equal(outs[0], litert_builtin(models[0], [x])[0])


def test_read_only_staging_is_named_not_a_refused_login(capsys, deployed, bundles, ssh_config, pi_python):
    remote, running = deployed
    with read_only(remote / "staging"):
        code, _, err = deploy_cli(capsys, bundles[1], remote, ssh_config, pi_python)
    line = one_error_line(err)
    assert code == 4 and "pi: step 'upload' failed: " in line, line
    assert ("read-only file system" if ROOT else "refused to write there: permission denied") in line
    assert "login was refused" not in line and f"the running version ({running}) is untouched" in line
    assert_whole(remote, running)
    assert not (remote / ".lock").exists()


@pytest.mark.skipif(not ROOT, reason="mounting a small tmpfs needs root")
def test_a_full_disk_says_no_space_left(capsys, bundles, ssh_config, pi_python, tmp_path):
    remote = tmp_path / "device"
    remote.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(remote)], check=True)
    try:
        first = edgelift.deploy(bundles[0].path, "pi", ssh_config=ssh_config, remote_dir=str(remote),
                                remote_python=pi_python)
        free = os.statvfs(remote).f_bavail * os.statvfs(remote).f_frsize
        filler = remote / "filler"
        with open(filler, "wb") as fh:  # leave 64 KiB: the lock and the probe fit, the bundle does not
            fh.write(b"\0" * max(0, free - 65536))
        code, _, err = deploy_cli(capsys, bundles[1], remote, ssh_config, pi_python)
        line = one_error_line(err)
        assert code == 4 and "pi: step 'upload' failed: the device's disk is full (" in line, line
        assert "No space left on device" in line and f"df -h {remote}" in line
        assert f"the running version ({first.release}) is untouched" in line
        filler.unlink()
        assert_whole(remote, first.release)
        assert not list((remote / "staging").iterdir()) and not (remote / ".lock").exists()
    finally:
        subprocess.run(["umount", "-l", str(remote)], check=False)


def test_an_unreachable_host_does_not_claim_what_runs(capsys, deployed, bundles, ssh_config, pi_python):
    remote, running = deployed
    code, _, err = deploy_cli(capsys, bundles[1], remote, ssh_config, pi_python, host=f"127.0.0.1:{free_port()}")
    line = one_error_line(err)
    assert code == 4 and "step 'connect' failed: cannot reach the device" in line, line
    assert "nothing on the device was changed" in line and "(none)" not in line
    assert_whole(remote, running)


CUT_AFTER_SWITCH = """#!/bin/sh
# runs the client's command; once MARKER exists, a switch (it renames .current.new.PID) then loses its connection,
# and once MARKER.gone exists too, every later connection is cut at once (the device went away)
[ -e MARKER.went ] && kill -9 $PPID
case "$SSH_ORIGINAL_COMMAND" in
  *".current.new."*) if [ -e MARKER ]; then
      sh -c "$SSH_ORIGINAL_COMMAND" </dev/null; [ -e MARKER.gone ] && touch MARKER.went; kill -9 $PPID; fi ;;
esac
exec sh -c "$SSH_ORIGINAL_COMMAND"
"""


@pytest.fixture(scope="module")
def cutting_sshd(tmp_path_factory):
    base = tmp_path_factory.mktemp("sshd_cut")
    wrapper = base / "cut_after_switch.sh"
    wrapper.write_text(CUT_AFTER_SWITCH.replace("MARKER", str(base / "cut")))
    wrapper.chmod(0o755)
    server = start_sshd(base / "server", f"ForceCommand {wrapper}\n")
    yield server
    server.stop()


def test_a_cut_after_the_switch_says_the_device_runs_the_new_version(capsys, cutting_sshd, bundles, pi_python,
                                                                     tmp_path):
    remote = tmp_path / "device"
    config = cutting_sshd.client_config()
    first = edgelift.deploy(bundles[0].path, "pi", ssh_config=config, remote_dir=str(remote),
                            remote_python=pi_python)
    assert first.ok  # the wrapper passes everything through until the marker exists
    (cutting_sshd.dir.parent / "cut").touch()
    code, _, err = deploy_cli(capsys, bundles[1], remote, config, pi_python)
    line = one_error_line(err)
    now = release(remote)
    assert now != first.release and now.endswith(bundles[1].bundle_id)
    assert code == 4 and f"pi: the connection was lost right after step 'switch' ran: the device now runs {now} " \
        f"(the new version; previous {first.release})" in line, line
    assert "untouched" not in line and "edgelift rollback --host pi" in line
    assert_whole(remote, now)
    assert release(remote, "previous") == first.release and not (remote / ".lock").exists()
    (cutting_sshd.dir.parent / "cut").unlink()


def test_a_cut_after_the_switch_with_the_device_gone_says_old_or_new(capsys, cutting_sshd, bundles, pi_python,
                                                                    tmp_path):
    remote = tmp_path / "device"
    config = cutting_sshd.client_config()
    first = edgelift.deploy(bundles[0].path, "pi", ssh_config=config, remote_dir=str(remote),
                            remote_python=pi_python)
    marker = cutting_sshd.dir.parent / "cut"
    for name in ("cut", "cut.gone"):
        (marker.parent / name).touch()
    try:
        code, _, err = deploy_cli(capsys, bundles[1], remote, config, pi_python)
    finally:
        for name in ("cut", "cut.gone", "cut.went"):
            (marker.parent / name).unlink(missing_ok=True)
    line = one_error_line(err)
    now = release(remote)
    assert code == 4 and now.endswith(bundles[1].bundle_id)
    assert f"pi: the connection was lost during step 'switch'; the device runs either {now} (new) or " \
        f"{first.release} (before) — it could not be asked which" in line, line
    assert "untouched" not in line and "once it is reachable" in line
    assert_whole(remote, now)




def test_a_failure_outside_a_deploy_does_not_advise_redeploying():
    device = make_device(Connection("pi@raspberrypi.local"))
    run = device.failure("run", "the ssh connection failed or was cut (ssh exit 255)")
    assert "nothing was switched" not in str(run) and "edgelift device info --host pi@raspberrypi.local" in run.hint
    upload = device.failure("upload", "the ssh connection failed or was cut (ssh exit 255)", current="r1")
    assert upload.hint == "run the deploy again; nothing was switched" and "(r1) is untouched" in str(upload)
