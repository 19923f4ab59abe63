"""ai-edge-litert 2.3 aarch64 (what Pi users install now) on the emulated Pi, under qemu 10 from
bookworm-backports (it crashes under qemu 7.2): its builtin kernels run, and the cross-built NEON delegate loads
into it and matches x86-64 LiteRT 2.3's builtin kernels bit for bit, on the Pi 4 (-cpu cortex-a72) and on the
Pi 5's own core model (-cpu cortex-a76, dot product)."""

from __future__ import annotations

import re
import subprocess

import pytest

from edgelift.device.emulate import pi_root
from tests.emulated_pi.conftest import assert_identical, steps_off
from tests.emulated_pi.pi import QEMU10_CPUS
from tests.emulated_pi.test_neon_on_emulated_pi import _delegate, aarch64_delegate  # noqa: F401 (fixture)

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

RUNTIME = "ai-edge-litert-2.3"
PARTITION = re.compile(r"(\d+) of (\d+) nodes delegated")


def test_the_launcher_runs_litert_2_3_on_qemu_10(emulated_pi):
    qemu = pi_root.qemu_for(emulated_pi.cache, RUNTIME)
    assert "version 10." in subprocess.run([qemu, "--version"], capture_output=True, text=True).stdout
    assert str(emulated_pi.cache / "qemu10") in emulated_pi.launcher(RUNTIME).read_text()
    code = ("import platform, ai_edge_litert; from importlib.metadata import version; "
            "print(platform.machine(), version('ai-edge-litert'))")
    got = emulated_pi.run(["-c", code], cpu=QEMU10_CPUS["pi5"], runtime=RUNTIME)
    assert got.returncode == 0 and got.stdout.split() == ["aarch64", "2.3.0"], got.stderr[-2000:]


@pytest.mark.parametrize("board", ["pi4", "pi5"])
def test_delegate_in_litert_2_3_matches_builtin(emulated_pi, aarch64_delegate, whole_cases, small_cases,  # noqa: F811
                                                tmp_path, board):
    cases = [whole_cases[0], *small_cases]  # the digits CNN and three op models
    jobs = [c.job(tmp_path / f"{c.name}.npz", _delegate(aarch64_delegate, "auto")) for c in cases]
    jobs += [c.job(tmp_path / f"{c.name}-builtin.npz", None, tag="-builtin") for c in cases]
    report = emulated_pi.run_batch(jobs, cpu=QEMU10_CPUS[board], runtime=RUNTIME)
    assert report["env"]["runtime_version"] == "2.3.0" and report["env"]["machine"] == "aarch64"
    for c in cases:
        result = report["results"][c.name]
        assert result["ok"], result
        m = PARTITION.search(result.get("log", ""))
        assert m and int(m.group(1)) > 0, f"{c.name}: no partition line in {result.get('log')!r}"
        assert_identical(c, tmp_path / f"{c.name}.npz", f"NEON delegate, LiteRT 2.3, -cpu {QEMU10_CPUS[board]}")
        assert report["results"][c.name + "-builtin"]["ok"], report["results"][c.name + "-builtin"]
        # LiteRT 2.3's own aarch64 builtin kernels: close to x86-64 (ties may round apart), as for 2.14. In a whole
        # model one tie in an early layer reaches several of the 10 logits (CI's retrained digits CNN: 2 of 10
        # one step off), so there only the step bound holds, as in test_zoo_on_emulated_pi
        share = 1.0 if c is cases[0] else 0.01
        steps_off(c, tmp_path / f"{c.name}-builtin.npz", f"builtin, LiteRT 2.3, -cpu {QEMU10_CPUS[board]}",
                  max_share=share)
