"""Deploy over a real OpenSSH server on loopback to the emulated Raspberry Pi (aarch64 python3.11 + tflite-runtime
2.14 under qemu-user, reached with --remote-python). Every remote step runs for real: ssh, tar, the agent, the
runtime, the cross-built NEON delegate. The "device" folder is on this machine, so the tests can look at it.

qemu is slow (a few seconds per Python start), so each test does few remote invocations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.device.remote import api as dep
from edgelift.device.remote.commands import format_bench
from edgelift.device.remote.device import make_device
from edgelift.device.remote.install_runtime import ensure_runtime
from edgelift.device.remote.ssh import Connection
from edgelift.errors import RemoteError
from tests.artefacts import missing
from tests.deploy.conftest import litert_builtin, release, two_conv_models

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]

# a remote folder name that breaks unquoted shell code, and would run `touch` if it were injected
NASTY = "it's a \"dir\" $(touch PWNED) `touch PWNED2`; x"
CUTTER = Path(__file__).with_name("cutter.py")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return two_conv_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def bundles(models, tmp_path_factory):
    d = tmp_path_factory.mktemp("bundles")
    return tuple(edgelift.bundle(m, target=t, output=d / f"{m.stem}.bundle") for m, t in zip(models, ("rpi4", "rpi5"),
                                                                                              strict=True))


def cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_deploy_run_bench_rollback(tmp_path, monkeypatch, capsys, bundles, models, ssh_config, pi_python):
    monkeypatch.chdir(tmp_path)  # where an injected `touch` would land
    remote = tmp_path / NASTY
    a, b = bundles
    common = ["--host", "pi", "--ssh-config", ssh_config, "--remote-dir", remote, "--remote-python", pi_python]

    code, out, err = cli(capsys, "deploy", a.path, *common)
    assert code == 0, err
    assert "deployed" in out and "bit for bit" in out and "5 files verified" in out
    rel_a = release(remote)
    assert rel_a.endswith(a.bundle_id) and release(remote, "previous") is None
    assert (remote / "current" / "model.tflite").read_bytes() == models[0].read_bytes()

    # run on the device with a fresh input; compare with LiteRT's builtin kernels here, bit for bit
    x = np.random.default_rng(7).integers(-128, 128, size=(1, 9, 9, 3)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    code, out, err = cli(capsys, "run", *common, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert code == 0, err
    assert "tflite_runtime 2.14.0" in out and "delegate neon" in out
    y = np.load(tmp_path / "y.npy")
    np.testing.assert_array_equal(y, litert_builtin(models[0], [x])[0])
    assert y.dtype == np.int8 and np.unique(y).size > 10
    code, out, err = cli(capsys, "device", "info", *common)
    assert code == 0 and "integrity    ok: 5 files match their sha256" in out, out + err

    # a byte that rots at rest in the running model: `device info` and `run` name it, nothing runs
    model = remote / "current" / "model.tflite"
    good = model.read_bytes()
    model.write_bytes(good[:200] + bytes([good[200] ^ 1]) + good[201:])
    code, out, err = cli(capsys, "device", "info", *common)
    assert code == 0 and "integrity    FAILED: checksum mismatch for 'model.tflite'" in out, out + err
    code, out, err = cli(capsys, "run", *common, "--input", tmp_path / "x.npy", "-o", tmp_path / "y2.npy")
    assert code != 0 and "checksum mismatch for 'model.tflite'" in err and not (tmp_path / "y2.npy").exists()
    model.write_bytes(good)

    # a second version: the first becomes `previous`
    result = edgelift.deploy(b.path, "pi", ssh_config=ssh_config, remote_dir=str(remote), remote_python=pi_python)
    assert result.ok and result.previous == rel_a and release(remote) == result.release
    assert release(remote, "previous") == rel_a
    assert result.check["exact"] is True and result.check["runtime"] == "tflite_runtime"
    # b is built for a Pi 5; the emulated CPU is a Pi 4's Cortex-A72 (no SDOT): said, not fatal
    assert "no dot-product instructions" in result.summary()

    # bench on the device: the three delegates side by side, with the device's conditions
    # packed for b's target, so the bundle bench builds on the fly is b itself (the id names the target too)
    code, out, err = cli(capsys, "bench", models[1], *common, "--target", "rpi5", "--runs", 3, "--warmup", 1,
                         "--json")
    assert code == 0, err
    bench = json.loads(out)
    rows = {r["delegate"]: r for r in bench["results"]}
    assert set(rows) == {"neon", "builtin", "xnnpack"}
    for r in rows.values():
        assert r["runs"] == 3 and 0 < r["p10_ms"] <= r["median_ms"] <= r["p90_ms"]
    assert rows["builtin"]["speedup_vs_builtin"] == 1.0
    # tflite-runtime 2.14's default XNNPACK takes no int8 nodes: the agent creates it with int8 enabled
    assert rows["xnnpack"]["xnnpack"] == "created with int8 (QS8) enabled"
    assert "mem_available_bytes" in bench["conditions_before"]
    assert bench["cpu"]["machine"] == "aarch64" and bench["cpu"]["neon"] is True
    assert any("not a Raspberry Pi's" in w for w in bench["warnings"])  # qemu's /proc/cpuinfo is the host's
    assert "neon" in format_bench(bench) and bench["bundle_id"] == b.bundle_id
    assert not list((remote / "staging").iterdir())  # the scratch copy is gone; nothing was installed
    assert release(remote) == result.release

    # rollback: back to the first version, which still computes the same thing
    code, out, err = cli(capsys, "rollback", *common)
    assert code == 0, err
    assert f"rolled back to {rel_a}" in out
    assert release(remote) == rel_a and release(remote, "previous") == result.release
    outs, meta = dep.run_remote(Connection("pi", ssh_config=ssh_config), x, remote_dir=str(remote),
                                remote_python=pi_python)
    np.testing.assert_array_equal(outs[0], y)

    # the nasty folder name was a name, never code
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.home().glob("PWNED*"))
    assert not list(Path("/").glob("PWNED*"))


def test_faults_leave_the_running_version(tmp_path, sshd, bundles, models, ssh_config, pi_python):
    remote = tmp_path / "device"
    a, b = bundles
    kw = dict(ssh_config=ssh_config, remote_dir=str(remote), remote_python=pi_python)
    first = edgelift.deploy(a.path, "pi", **kw)
    second = edgelift.deploy(b.path, "pi", **kw)
    assert release(remote) == second.release

    # the connection is cut (TCP reset by a ProxyCommand) in the middle of the upload
    cut = sshd.client_config("ssh_config_cut", extra=f"  ProxyCommand {sys.executable} {CUTTER} %h %p 40000\n")
    with pytest.raises(RemoteError, match="step 'upload' failed") as err:
        edgelift.deploy(a.path, "pi", **dict(kw, ssh_config=cut))
    assert f"running version ({second.release}) is untouched" in str(err.value)
    assert release(remote) == second.release and release(remote, "previous") == first.release
    assert sorted(p.name for p in (remote / "releases").iterdir()) == sorted([first.release, second.release])
    assert not list((remote / "staging").iterdir())  # the partial upload was cleared

    # a file corrupted on the device is caught by its checksum before anything switches
    model = remote / "releases" / first.release / "model.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(RemoteError, match="step 'verify' failed: checksum mismatch for 'model.tflite'"):
        edgelift.rollback("pi", **kw)
    assert release(remote) == second.release

    # and what runs is still the second version, computing exactly what the desktop does; a float input is
    # quantized on the device with the model's input scale and zero point
    x = np.load(b.path / "reference" / "input_0.npy")
    spec = b.manifest["signature"]["inputs"][0]
    x_float = ((x.astype(np.float32) - spec["zero_point"]) * np.float32(spec["scale"]))[0]  # no batch axis
    outs, _ = dep.run_remote("pi", x_float, **kw)
    np.testing.assert_array_equal(outs[0], litert_builtin(models[1], [x])[0])


def test_unknown_or_changed_host_key_is_refused(tmp_path, sshd, bundles, pi_python):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = sshd.client_config("ssh_config_unknown", known_hosts=empty)
    remote = tmp_path / "device"
    kw = dict(ssh_config=config, remote_dir=str(remote), remote_python=pi_python)
    with pytest.raises(RemoteError, match="step 'connect' failed: the device's host key is unknown") as err:
        edgelift.deploy(bundles[0].path, "pi", **kw)
    assert "--accept-new-host-key" in err.value.hint
    assert not remote.exists() and empty.read_text() == ""

    # asked for: a new key is recorded, and the connection works
    state = make_device(Connection("pi", ssh_config=config, accept_new_host_key=True), remote_dir=str(remote),
                            remote_python=pi_python).state()
    assert state["python"].startswith("3.11") and state["current"] is None
    assert f"[127.0.0.1]:{sshd.port}" in empty.read_text()

    # a changed key is refused even with --accept-new-host-key
    other = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    empty.write_text(f"[127.0.0.1]:{sshd.port} " + " ".join(other.with_suffix(".pub").read_text().split()[:2]) + "\n")
    with pytest.raises(RemoteError, match="host key"):
        make_device(Connection("pi", ssh_config=config, accept_new_host_key=True), remote_dir=str(remote),
                            remote_python=pi_python).state()


def test_fleet_with_an_unreachable_host(tmp_path, capsys, sshd, models, bundles, ssh_config, pi_python):
    from tests.deploy.conftest import free_port

    dead = free_port()  # nothing listens there
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[pis]\n"
        f"pi-a ansible_host=127.0.0.1 ansible_port={sshd.port} edgelift_remote_dir={tmp_path}/a\n"
        f"pi-dead ansible_host=127.0.0.1 ansible_port={dead}\n"
        f"pi-b ansible_host=127.0.0.1 ansible_port={sshd.port} edgelift_remote_dir={tmp_path}/b\n"
    )
    # a .tflite is bundled on the fly (once) for the whole fleet
    code, out, err = cli(capsys, "deploy", models[0], "--hosts", inventory, "--ssh-config", ssh_config,
                         "--remote-python", pi_python, "--concurrency", "2")
    assert code == 4
    assert "2 of 3 devices deployed" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("pi-")}
    assert "(canary)" in lines["pi-a"] and " ok " in lines["pi-a"] and " ok " in lines["pi-b"]
    assert "FAILED" in lines["pi-dead"] and "at connect" in lines["pi-dead"] and "cannot reach" in lines["pi-dead"]
    assert "1 of 3 devices were not deployed: pi-dead" in err
    assert release(tmp_path / "a").endswith(bundles[0].bundle_id)
    assert release(tmp_path / "b").endswith(bundles[0].bundle_id)

    # a failing canary stops the rollout before the others are touched
    inventory.write_text(f"127.0.0.1:{dead}\n127.0.0.1:{sshd.port}\n")
    result = edgelift.deploy(bundles[0].path, hosts=inventory, ssh_config=ssh_config,
                             remote_dir=str(tmp_path / "c"), remote_python=pi_python)
    assert not result.ok and [r.step for r in result.results] == ["connect", "skipped"]
    assert not (tmp_path / "c").exists()


def test_missing_runtime_names_the_install_command(tmp_path, capsys, bundles, ssh_config):
    # the device's Python exists but has no numpy / TFLite runtime (this machine's system python3)
    code, out, err = cli(capsys, "deploy", bundles[0].path, "--host", "pi", "--ssh-config", ssh_config,
                         "--remote-dir", tmp_path / "device", "--remote-python", "/usr/bin/python3")
    if code == 0:
        pytest.skip("/usr/bin/python3 here has numpy and a TFLite runtime")
    assert code == 3, err
    assert "is not installed for /usr/bin/python3" in err
    assert "-m venv ~/edgelift/venv && ~/edgelift/venv/bin/pip install tflite-runtime==2.14.0 numpy==1.26.4" in err
    assert "deploy --install-runtime" in err
    assert "the running version (none) is untouched" in err
    assert not (tmp_path / "device" / "current").exists()


def test_device_info(capsys, ssh_config, pi_python, tmp_path):
    code, out, err = cli(capsys, "device", "info", "--host", "pi", "--ssh-config", ssh_config, "--remote-python",
                         pi_python, "--remote-dir", tmp_path)
    assert code == 0, err
    fields = {ln[:13].strip(): ln[13:] for ln in out.splitlines()}
    assert fields["cpu"].endswith("(aarch64)")
    assert fields["neon"] == "yes; dot product: no"  # qemu's cortex-a72, read from AT_HWCAP
    assert fields["python"].startswith("3.11.")
    assert "tflite-runtime 2.14.0" in fields["runtimes"] and "numpy 1.26.4" in fields["runtimes"]
    assert fields["deployed"] == "nothing"
    # nothing deployed there yet: `run` says so and what to do
    np.save(tmp_path / "x.npy", np.zeros((1, 9, 9, 3), np.int8))
    code, out, err = cli(capsys, "run", "--host", "pi", "--ssh-config", ssh_config, "--remote-python", pi_python,
                         "--remote-dir", tmp_path, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert code == 4 and "nothing is deployed" in err and "edgelift deploy MODEL --host pi" in err
    assert not (tmp_path / "y.npy").exists()


# a `tar` on the device that writes the files, then flips one byte of the model, as failing storage would
BAD_STORAGE_TAR = """#!/bin/sh
dir=""; prev=""
for a in "$@"; do [ "$prev" = "-C" ] && dir="$a"; prev="$a"; done
/usr/bin/tar "$@" || exit $?
if [ -f "$dir/model.tflite" ]; then printf 'Z' | dd of="$dir/model.tflite" bs=1 seek=100 conv=notrunc 2>/dev/null; fi
"""


def test_corruption_on_the_device_during_deploy_is_caught(tmp_path, bundles, pi_python):
    from tests.deploy.conftest import start_sshd

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "tar").write_text(BAD_STORAGE_TAR)
    (fake_bin / "tar").chmod(0o755)
    server = start_sshd(tmp_path / "sshd", extra_config=f"SetEnv PATH={fake_bin}:/usr/bin:/bin\n")
    try:
        config = server.client_config()
        remote = tmp_path / "device"
        with pytest.raises(RemoteError) as err:
            edgelift.deploy(bundles[0].path, "pi", ssh_config=config, remote_dir=str(remote),
                            remote_python=pi_python)
    finally:
        server.stop()
    msg = str(err.value)
    assert "step 'verify' failed: checksum mismatch for 'model.tflite'" in msg
    assert "the running version (none) is untouched" in msg
    assert not (remote / "current").exists() and not list((remote / "staging").iterdir())


def test_self_check_refuses_a_device_that_computes_something_else(tmp_path, bundles, ssh_config, pi_python):
    # the bundle's reference says one value should be different from what the model computes: from the
    # device's point of view this is a runtime/delegate that disagrees with the desktop
    bundle = tmp_path / "tampered.bundle"
    shutil.copytree(bundles[0].path, bundle)
    ref = bundle / "reference" / "output_0.npy"
    y = np.load(ref)
    y.flat[17] = np.int8(int(y.flat[17]) ^ 1)
    np.save(ref, y)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["reference/output_0.npy"] = {"sha256": hashlib.sha256(ref.read_bytes()).hexdigest(),
                                                   "size": ref.stat().st_size}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    remote = tmp_path / "device"
    with pytest.raises(RemoteError, match="step 'self-check' failed: the device's outputs differ from the desktop "
                                          r"reference \(bit for bit\).*\"mismatches\": 1"):
        edgelift.deploy(bundle, "pi", ssh_config=ssh_config, remote_dir=str(remote), remote_python=pi_python)
    assert not (remote / "current").exists() and list((remote / "releases").iterdir()) == []


def test_install_runtime_only_when_needed_and_a_clear_error_without_venv(tmp_path, bundles, ssh_config,
                                                                          pi_python):
    remote = tmp_path / "device"
    kw = dict(remote_dir=str(remote))
    # the emulated Pi's Python has a runtime: --install-runtime changes nothing and the deploy goes on
    device = make_device(Connection("pi", ssh_config=ssh_config), remote_python=pi_python, **kw)
    assert ensure_runtime(device) == pi_python and not (remote / "venv").exists()
    # this machine's /usr/bin/python3 has no numpy; creating the venv is tried (offline: from a wheels folder)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    device = make_device(Connection("pi", ssh_config=ssh_config), remote_python="/usr/bin/python3", **kw)
    if "have-runtime" in device.shell("probe", "/usr/bin/python3 -c 'import numpy' && echo have-runtime; true"):
        pytest.skip("/usr/bin/python3 here has numpy")
    with pytest.raises(RemoteError, match="step 'install-runtime' failed: pip could not install "
                                          "tflite-runtime==2.14.0 numpy==1.26.4") as err:
        ensure_runtime(device, wheels=wheels)  # an empty wheels folder: pip --no-index finds nothing
    assert "--wheels DIR" in err.value.hint
    assert (remote / "venv" / "bin" / "python").exists() and (remote / "wheels").is_dir()


def test_a_second_deploy_waits_for_the_lock(tmp_path, bundles, ssh_config):
    # another deploy holds the device (its lock folder exists and is fresh): this one is refused at connect
    remote = tmp_path / "device"
    (remote / ".lock").mkdir(parents=True)
    (remote / ".lock" / "owner").write_text("laptop pid 4242 since 2026-01-01 10:00:00Z\n")
    kw = dict(ssh_config=ssh_config, remote_dir=str(remote), remote_python="/usr/bin/python3")
    with pytest.raises(RemoteError, match=r"step 'connect' failed: another deploy or rollback is in progress on "
                                          r"this device \(laptop pid 4242"):
        edgelift.deploy(bundles[0].path, "pi", **kw)
    with pytest.raises(RemoteError, match="another deploy or rollback is in progress"):
        edgelift.rollback("pi", **kw)
    assert (remote / ".lock" / "owner").read_text().startswith("laptop")  # not ours to remove
    # a lock older than 30 minutes (a killed deploy) is taken over, and released when the deploy ends
    os.utime(remote / ".lock", (time.time() - 3600, time.time() - 3600))
    with pytest.raises(edgelift.errors.RuntimeUnavailableError, match="step .self-check. failed: numpy is not"):
        edgelift.deploy(bundles[0].path, "pi", **kw)
    assert not (remote / ".lock").exists()


CRASHING_DELEGATE = """
#include <stddef.h>
void *tflite_plugin_create_delegate(char **keys, char **values, size_t n, void (*report)(const char *)) {
  (void)keys; (void)values; (void)n; (void)report;
  return *(void *volatile *)0;  /* a NULL read: SIGSEGV */
}
void tflite_plugin_destroy_delegate(void *d) { (void)d; }
"""


def test_a_crash_on_the_device_is_a_named_step_failure(tmp_path, models, ssh_config, pi_python):
    cc = shutil.which("aarch64-linux-gnu-gcc")
    if cc is None:
        missing("aarch64-linux-gnu-gcc", "Debian gcc-aarch64-linux-gnu: `make system-deps` installs it")
    (tmp_path / "crash.c").write_text(CRASHING_DELEGATE)
    lib = tmp_path / "libcrash.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O0", "-o", str(lib), str(tmp_path / "crash.c")], check=True)
    bundle = edgelift.bundle(models[0], output=tmp_path / "crash.bundle", delegate_library=lib)
    remote = tmp_path / "device"
    with pytest.raises(RemoteError, match=r"step 'self-check' failed: the device's Python crashed \(SIGSEGV\)"):
        edgelift.deploy(bundle.path, "pi", ssh_config=ssh_config, remote_dir=str(remote), remote_python=pi_python)
    assert not (remote / "current").exists() and not (remote / ".lock").exists()
