"""A float model deployed over OpenSSH on loopback to the emulated Pi: the bundle carries no NEON delegate, the
device runs it with XNNPACK and passes its self-check within the tolerance recorded in the manifest."""

from __future__ import annotations

import numpy as np
import pytest

import edgelift
from edgelift.device.remote import api as dep
from tests import modelkit
from tests.deploy.conftest import litert_builtin

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]


@pytest.mark.parametrize("runtime", ["tflite_runtime", "litert"])
def test_float_model_deploys_with_xnnpack_and_runs(tmp_path, ssh_config, pi_python, pi_python_litert23, runtime):
    """tflite-runtime 2.14 (qemu 7.2) and ai-edge-litert 2.3 (qemu 10, -cpu cortex-a72 by default)."""
    python = pi_python if runtime == "tflite_runtime" else pi_python_litert23
    model = tmp_path / "dense.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.dense))
    remote = tmp_path / "device"
    kw = dict(ssh_config=ssh_config, remote_dir=str(remote), remote_python=python)
    result = edgelift.deploy(model, "pi", target="rpi4", **kw)
    assert result.ok, result.error
    check = result.check
    assert check["delegate"] == "xnnpack" and check["exact"] is False
    assert check["runtime"] == runtime and "within" in result.summary()
    assert check["runtime_version"] == ("2.14.0" if runtime == "tflite_runtime" else "2.3.0")
    manifest = edgelift.device.remote.bundle.load_bundle(remote / "current")
    tol = manifest["reference"]["tolerances"][0]
    assert check["outputs"][0]["equal"] and check["outputs"][0]["max_abs_diff"] <= tol
    assert not (remote / "current" / "delegate").exists()
    x = np.random.default_rng(3).uniform(-1, 1, (1, 16)).astype(np.float32)
    outs, meta = dep.run_remote("pi", x, **kw)
    assert meta["delegate"] == "xnnpack"
    want = litert_builtin(model, [x])[0]
    assert outs[0].dtype == np.float32 and np.max(np.abs(outs[0] - want)) <= tol
