"""edgelift.device.remote.converge over a real loopback sshd to the emulated Pi: check mode writes nothing, a deploy
is `changed`, the same bundle again is not (and is self-checked), a damaged live copy is repaired, and the
health gate passes on the live release and refuses another bundle."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import edgelift
from edgelift.device.remote.bundle import load_bundle
from edgelift.device.remote.converge import converge, health_gate, probe
from edgelift.device.remote.device import make_device
from edgelift.device.remote.ssh import Connection
from edgelift.errors import RemoteError
from tests import modelkit

pytestmark = [pytest.mark.ssh, pytest.mark.qemu, pytest.mark.slow]


def test_converge_is_idempotent_and_repairs(tmp_path, ssh_config, pi_python):
    model = tmp_path / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    built = edgelift.bundle(model, output=tmp_path / "m.bundle")
    manifest = load_bundle(built.path)
    remote = tmp_path / "device"
    device = make_device(Connection("pi", ssh_config=ssh_config), remote_dir=str(remote), remote_python=pi_python)

    dry = converge(device, built.path, manifest, check_mode=True)
    assert dry.changed and dry.release is None and "nothing was changed" in dry.reason
    assert not remote.exists()  # not even the folders a deploy would create
    assert probe(device) == {"current": None, "previous": None, "python": probe(device)["python"]}

    first = converge(device, built.path, manifest)
    assert first.changed and first.release.endswith(built.bundle_id) and first.previous is None
    assert first.facts()["edgelift_runtime"] == "tflite_runtime 2.14.0"
    assert Path(os.readlink(remote / "current")).name == first.release

    again = converge(device, built.path, manifest)
    assert not again.changed and again.release == first.release and "passes its self-check" in again.reason
    assert os.listdir(remote / "releases") == [first.release]

    health = health_gate(device, built.path, manifest)
    assert health["release"] == first.release

    # a byte rots in the live model: the same bundle is no longer "already there"; a new release repairs it
    live_model = remote / "current" / "model.tflite"
    data = bytearray(live_model.read_bytes())
    data[100] ^= 1
    live_model.write_bytes(bytes(data))
    repaired = converge(device, built.path, manifest)
    assert repaired.changed and repaired.release != first.release and "fails its check" in repaired.reason
    assert repaired.previous == first.release

    # the health gate refuses when the live release is another bundle
    other_model = tmp_path / "other.tflite"
    other_model.write_bytes(modelkit.cached("int8", modelkit.conv2d, filters=5, activation="relu", seed=1))
    other = edgelift.bundle(other_model, output=tmp_path / "o.bundle")
    with pytest.raises(RemoteError, match="step 'health' failed: the live release is .*, not bundle"):
        health_gate(device, other.path, load_bundle(other.path))
