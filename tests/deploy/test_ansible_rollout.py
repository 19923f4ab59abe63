"""Rolling deploys through real Ansible (ansible-core, the edgelift.pi collection) to several loopback sshd
hosts backed by the emulated Pi (aarch64 python3.11 + tflite-runtime 2.14 under qemu-user).

Covered: `edgelift deploy --engine ansible` with a canary and percentage waves, a host whose self-check fails
after the switch (rolled back, its wave stops the rollout, later hosts untouched), `ansible-playbook
examples/fleet/deploy.yml` with an unreachable host, check mode (nothing written) and idempotence
(changed only when a new release went live).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import edgelift
from edgelift.cli import main
from tests.deploy.conftest import free_port, release, start_sshd, two_conv_models

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "fleet" / "deploy.yml"

# the emulated Pi's Python on a device whose storage rots the live model once it is switched in: the health
# gate's self-check of `current` (the first check of that folder) finds a byte changed
ROTTING_PYTHON = """#!/bin/sh
prev=""; bundle=""
for a in "$@"; do [ "$prev" = "--bundle" ] && bundle="$a"; prev="$a"; done
case "$bundle" in
  */current) printf 'Z' | dd of="$bundle/model.tflite" bs=1 seek=100 conv=notrunc 2>/dev/null ;;
esac
exec {python} "$@"
"""


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    """Three sshd servers on loopback, one client key and one known_hosts for all of them."""
    base = tmp_path_factory.mktemp("sshds")
    servers = [start_sshd(base / f"sshd{i}") for i in range(3)]
    for s in servers[1:]:
        shutil.copyfile(servers[0].key.with_suffix(".pub"), s.dir / "authorized_keys")
    (base / "known_hosts").write_text("".join(f"[127.0.0.1]:{s.port} {s.host_pub}\n" for s in servers))
    config = servers[0].client_config(known_hosts=base / "known_hosts")
    yield servers, config
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def two_bundles(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundles")
    a, b = two_conv_models(d)
    return edgelift.bundle(a, output=d / "a.bundle"), edgelift.bundle(b, output=d / "b.bundle")


def cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_waves_canary_and_a_failing_host_rolled_back(tmp_path, capsys, hosts, two_bundles, pi_python):
    servers, config = hosts
    a, b = two_bundles
    rotting = tmp_path / "rotting-python3"
    rotting.write_text(ROTTING_PYTHON.format(python=pi_python))
    rotting.chmod(0o755)
    p = [s.port for s in servers]
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[pis]\n"
        f"pi-a ansible_host=127.0.0.1 ansible_port={p[0]} edgelift_remote_dir={tmp_path}/a\n"
        f"pi-b ansible_host=127.0.0.1 ansible_port={p[1]} edgelift_remote_dir={tmp_path}/b\n"
        f"pi-bad ansible_host=127.0.0.1 ansible_port={p[2]} edgelift_remote_dir={tmp_path}/bad "
        f"ansible_python_interpreter={rotting}\n"
        f"pi-c ansible_host=127.0.0.1 ansible_port={p[0]} edgelift_remote_dir={tmp_path}/c\n"
        "[pis:vars]\n"
        f"ansible_python_interpreter={pi_python}\n"
    )
    # version A everywhere first (the built-in engine), so every host has something to roll back to
    first = edgelift.deploy(a.path, hosts=inventory, ssh_config=config)
    assert first.ok, first.table()
    before = {h: release(tmp_path / h) for h in ("a", "b", "bad", "c")}

    code, out, err = cli(capsys, "deploy", b.path, "--hosts", inventory, "--engine", "ansible", "--waves",
                         "50%,100%", "--ssh-config", config)
    assert code == 4, out + err
    rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("pi-")}
    # waves: [pi-a] (canary), [pi-b, pi-bad] (50% of 4), [pi-c]
    assert "(canary)" in rows["pi-a"] and " ok " in rows["pi-a"] and "health gate ok" in rows["pi-a"]
    assert " ok " in rows["pi-b"]
    assert "FAILED" in rows["pi-bad"] and "at health" in rows["pi-bad"], rows["pi-bad"]
    assert "checksum mismatch for 'model.tflite'" in rows["pi-bad"]
    assert f"rolled back to {before['bad']}" in rows["pi-bad"]
    assert "skipped" in rows["pi-c"] and "not attempted: wave 2 failed" in rows["pi-c"]
    assert "2 of 4 devices deployed by Ansible in waves of 1+2+1 hosts (canary pi-a)" in out
    assert "2 of 4 devices were not deployed: pi-bad, pi-c" in err
    for h in ("a", "b"):
        assert release(tmp_path / h).endswith(b.bundle_id) and release(tmp_path / h, "previous") == before[h]
    # the failing host runs A again (B kept as previous); the host after the failed wave was never touched
    assert release(tmp_path / "bad") == before["bad"] and release(tmp_path / "bad", "previous").endswith(b.bundle_id)
    assert release(tmp_path / "c") == before["c"] and sorted(os.listdir(tmp_path / "c" / "releases")) == [before["c"]]
    assert not any((tmp_path / h / ".lock").exists() for h in ("a", "b", "bad", "c"))

    # check mode through the CLI: who would get B, who already runs it; nothing changes anywhere
    after = {h: sorted(os.listdir(tmp_path / h / "releases")) for h in ("a", "b", "bad", "c")}
    code, out, err = cli(capsys, "deploy", b.path, "--hosts", inventory, "--engine", "ansible", "--check",
                         "--ssh-config", config, "--group", "pis")
    assert code == 0, out + err
    rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("pi-")}
    assert "unchanged" in rows["pi-a"] and "unchanged" in rows["pi-b"]
    assert "would" in rows["pi-bad"] and "would" in rows["pi-c"] and f"live now: {before['c']}" in rows["pi-c"]
    assert "check mode, nothing changed: 2 of 4 devices would be deployed, 2 already run the bundle" in out
    assert after == {h: sorted(os.listdir(tmp_path / h / "releases")) for h in ("a", "b", "bad", "c")}
    assert release(tmp_path / "c") == before["c"] and release(tmp_path / "bad") == before["bad"]


def playbook(inventory: Path, bundle: Path, *extra: str) -> subprocess.CompletedProcess:
    """`ansible-playbook examples/fleet/deploy.yml` as documented (the collection found next to the playbook)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    return subprocess.run([sys.executable, "-m", "ansible", "playbook", str(EXAMPLE), "-i", str(inventory),
                           "-e", f"edgelift_bundle={bundle}", *extra], capture_output=True, text=True, env=env,
                          timeout=900, check=False)


def recap(out: str) -> dict[str, str]:
    lines = out[out.index("PLAY RECAP"):].splitlines()[1:]
    return {ln.split()[0]: ln for ln in lines if ":" in ln}


def test_example_playbook_check_mode_unreachable_and_idempotence(tmp_path, hosts, two_bundles, pi_python):
    servers, config = hosts
    a, _ = two_bundles
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        "[pis]\n"
        f"pi-x ansible_host=127.0.0.1 ansible_port={servers[1].port} edgelift_remote_dir={tmp_path}/x\n"
        f"pi-y ansible_host=127.0.0.1 ansible_port={servers[2].port} edgelift_remote_dir={tmp_path}/y\n"
        f"pi-dead ansible_host=127.0.0.1 ansible_port={free_port()} edgelift_remote_dir={tmp_path}/dead\n"
        "[pis:vars]\n"
        f"ansible_python_interpreter={pi_python}\n"
        f"edgelift_ssh_config={config}\n"
    )
    # check mode: what would change, and nothing is written on the devices
    run = playbook(inventory, a.path, "--check")
    assert run.returncode == 4, run.stdout + run.stderr  # 4: a host was unreachable
    r = recap(run.stdout)
    assert "changed=1" in r["pi-x"] and "changed=1" in r["pi-y"] and "unreachable=1" in r["pi-dead"]
    assert "changed: [pi-x]" in run.stdout and "changed: [pi-y]" in run.stdout
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()

    # for real: the canary, then the rest in one wave; the unreachable host does not stop the others
    run = playbook(inventory, a.path, "-e", '{"edgelift_waves": [1, "100%"]}')
    assert run.returncode == 4, run.stdout + run.stderr
    r = recap(run.stdout)
    assert "changed=1" in r["pi-x"] and "failed=0" in r["pi-x"] and "unreachable=1" in r["pi-dead"]
    assert "changed=1" in r["pi-y"] and "failed=0" in r["pi-y"]
    rel_x, rel_y = release(tmp_path / "x"), release(tmp_path / "y")
    assert rel_x.endswith(a.bundle_id) and rel_y.endswith(a.bundle_id)
    assert f"{rel_x} on tflite_runtime 2.14.0" in run.stdout  # the facts, reported by the second play

    # again: already live and passing its self-check, so nothing changes
    run = playbook(inventory, a.path, "--limit", "pi-x,pi-y")
    assert run.returncode == 0, run.stdout + run.stderr
    r = recap(run.stdout)
    assert "changed=0" in r["pi-x"] and "changed=0" in r["pi-y"]
    assert release(tmp_path / "x") == rel_x and release(tmp_path / "y") == rel_y
    assert os.listdir(tmp_path / "x" / "releases") == [rel_x]
