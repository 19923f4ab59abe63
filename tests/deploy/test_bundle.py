"""Bundles (no SSH): contents, checksums, the desktop reference, and refusals that leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

import edgelift
from edgelift.delegates import neon
from edgelift.device.remote.bundle import load_bundle
from edgelift.errors import InvalidArgumentError, InvalidModelError, ModelNotFoundError, OutputError
from tests import modelkit
from tests.deploy.conftest import litert_builtin


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "conv.tflite"
    path.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    return path


@pytest.fixture()
def pi_delegate(tmp_path):
    """The aarch64 build (`make native` makes it; a missing build fails, it does not skip), copied here."""
    try:
        built = neon.library_path("aarch64")
    except edgelift.errors.DelegateError as exc:
        pytest.fail(f"the aarch64 delegate is not built ({exc}); `make native` builds it", pytrace=False)
    lib = tmp_path / "libedgelift_neon.so"
    shutil.copyfile(built, lib)
    return lib


def test_bundle_contents_manifest_and_reference(conv_model, pi_delegate, tmp_path):
    out = tmp_path / "conv.bundle"
    result = edgelift.bundle(conv_model, target="rpi5", output=out, delegate_library=pi_delegate)
    assert result.path == out
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == ["agent/edgelift_agent.py", "delegate/libedgelift_neon.so", "manifest.json", "model.tflite",
                     "reference/input_0.npy", "reference/output_0.npy"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["target"] == "rpi5" and manifest["target_spec"]["dotprod"] is True
    assert manifest["edgelift_version"] == edgelift.__version__
    assert manifest["runtimes_tested"]["tflite-runtime"] == "2.14.0"
    for rel, meta in manifest["files"].items():  # every file but the manifest, with its real sha256
        data = (out / rel).read_bytes()
        assert meta == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    assert (out / "model.tflite").read_bytes() == conv_model.read_bytes()
    sig = manifest["signature"]
    assert sig["inputs"][0]["dtype"] == "int8" and sig["inputs"][0]["shape"] == [1, 9, 9, 3]
    assert sig["outputs"][0]["scale"] > 0
    # the reference is what LiteRT's builtin kernels compute for the stored input, exactly
    x = np.load(out / "reference/input_0.npy")
    y = np.load(out / "reference/output_0.npy")
    assert manifest["reference"]["exact"] is True and manifest["reference"]["tolerance"] == 0.0
    assert x.dtype == np.int8 and x.min() < -100 and x.max() > 100  # spans the int8 range
    np.testing.assert_array_equal(litert_builtin(conv_model, [x])[0], y)
    assert load_bundle(out)["bundle_id"] == result.bundle_id


def test_rebundle_replaces_and_same_inputs_give_same_id(conv_model, pi_delegate, tmp_path):
    out = tmp_path / "b"
    first = edgelift.bundle(conv_model, output=out, delegate_library=pi_delegate)
    (out / "stale.txt").write_text("left over")
    second = edgelift.bundle(conv_model, output=out, delegate_library=pi_delegate)
    assert first.bundle_id == second.bundle_id
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", pi_delegate.name]  # no temp or old folders


def test_local_corruption_is_refused_before_any_upload(conv_model, pi_delegate, tmp_path):
    out = tmp_path / "b"
    edgelift.bundle(conv_model, output=out, delegate_library=pi_delegate)
    data = bytearray((out / "model.tflite").read_bytes())
    data[-1] ^= 0xFF
    (out / "model.tflite").write_bytes(bytes(data))
    with pytest.raises(InvalidModelError, match="model.tflite"):
        load_bundle(out)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"target": "rpi3"}, InvalidArgumentError, "target 'rpi3' is not one of 'rpi4', 'rpi5', 'aarch64'"),
    ({"kernels": "sve"}, InvalidArgumentError, "kernels 'sve' is not one of"),
    ({"num_threads": 0}, InvalidArgumentError, "threads must be a whole number >= 1, got 0"),
    ({"delegate_library": "/nonexistent/lib.so"}, edgelift.errors.DelegateError, "/nonexistent/lib.so"),
])
def test_bad_arguments_leave_no_output(conv_model, tmp_path, kwargs, error, match):
    out = tmp_path / "b"
    with pytest.raises(error, match=match):
        edgelift.bundle(conv_model, output=out, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bad_models_and_outputs(conv_model, pi_delegate, tmp_path):
    with pytest.raises(ModelNotFoundError, match="missing.tflite"):
        edgelift.bundle(tmp_path / "missing.tflite", output=tmp_path / "b", delegate_library=pi_delegate)
    keras_file = tmp_path / "model.keras"
    keras_file.write_bytes(b"PK\x03\x04 a zip, not a flatbuffer")
    with pytest.raises(InvalidModelError, match="TFL3"):
        edgelift.bundle(keras_file, output=tmp_path / "b", delegate_library=pi_delegate)
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"...")
    with pytest.raises(OutputError, match="not an edgelift bundle"):
        edgelift.bundle(conv_model, output=other, delegate_library=pi_delegate)
    assert [p.name for p in other.iterdir()] == ["cat.jpg"]
    assert not (tmp_path / "b").exists()


def test_a_delegate_library_the_pi_cannot_load_is_refused(conv_model, tmp_path):
    text = tmp_path / "notes.so"
    text.write_text("not a library\n")
    desktop = neon.library_path()  # this machine's x86-64 build
    for lib, named in ((text, "is not an ELF shared library"), (desktop, "was built for x86_64")):
        with pytest.raises(edgelift.errors.DelegateError, match=named):
            edgelift.bundle(conv_model, target="rpi4", output=tmp_path / "b", delegate_library=lib)
        assert not (tmp_path / "b").exists()
    # the desktop build goes into a bundle for this desktop (to try the agent before a Pi), nowhere else
    assert edgelift.bundle(conv_model, target="x86_64", output=tmp_path / "b", delegate_library=desktop).files == 6
