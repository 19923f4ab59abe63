"""The edgelift.pi modules one by one in a real playbook (ansible-core) against a loopback sshd host backed by
the emulated Pi: install_runtime (nothing to do there), deploy, info, run (outputs compared here with LiteRT's
builtin kernels, bit for bit), rollback (refused with one release, check mode, then for real)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgelift
from tests.deploy.conftest import litert_builtin, two_conv_models

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]

COLLECTIONS = Path(__file__).resolve().parents[2] / "device" / "ansible"

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - edgelift.pi.install_runtime:
      register: rt
    - edgelift.pi.deploy: {{bundle: "{a}"}}
    - edgelift.pi.info:
      register: info
    - edgelift.pi.run: {{input: "{x}", output: "{y}"}}
      register: ran
    - edgelift.pi.rollback:
      register: refused
      ignore_errors: true
    - edgelift.pi.deploy: {{bundle: "{b}"}}
      register: second
    - edgelift.pi.rollback:
      check_mode: true
      register: dry
    - edgelift.pi.rollback:
      register: back
    - ansible.builtin.assert:
        that:
          - rt is not changed
          - info.device.cpu.machine == "aarch64" and info.device.integrity.ok
          - edgelift_device.current == info.device.current
          - ran.runtime == "tflite_runtime 2.14.0" and ran.delegate == "neon" and ran.shapes == [[1, 9, 9, 8]]
          - refused is failed and "nothing to roll back to" in refused.msg
          - second is changed and second.previous == info.device.current
          - dry is changed and dry.release == info.device.current
          - back is changed and back.release == info.device.current and back.previous == second.release
          - edgelift_release == info.device.current
"""


def test_modules_in_a_playbook(tmp_path, ssh_config, pi_python):
    a, b = two_conv_models(tmp_path)
    ba, bb = (edgelift.bundle(m, output=tmp_path / f"{m.stem}.bundle") for m in (a, b))
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 9, 9, 3)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "play.yml").write_text(PLAYBOOK.format(a=ba.path, b=bb.path, x=tmp_path / "x.npy",
                                                       y=tmp_path / "y.npy"))
    remote = tmp_path / "device"
    (tmp_path / "inventory.ini").write_text(
        f"pi ansible_host=pi edgelift_remote_dir={remote} ansible_python_interpreter={pi_python} "
        f"edgelift_ssh_config={ssh_config}\n")
    env = dict({k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")},
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    run = subprocess.run([sys.executable, "-m", "ansible", "playbook", str(tmp_path / "play.yml"), "-i",
                          str(tmp_path / "inventory.ini")], capture_output=True, text=True, env=env, timeout=900,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok=9" in run.stdout and "failed=0" in run.stdout and "ignored=1" in run.stdout, run.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), litert_builtin(a, [x])[0])
    assert Path(os.readlink(remote / "current")).name.endswith(ba.bundle_id)
