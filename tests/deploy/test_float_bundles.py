"""Float bundles (no SSH): XNNPACK on the device instead of our int8 delegate, and a self-check tolerance derived
from the model's own outputs, recorded in the manifest, overridable, and able to fail."""

from __future__ import annotations

import json

import numpy as np
import pytest

import edgelift
from edgelift.cli import main
from edgelift.device.agent import edgelift_agent as agent
from edgelift.device.remote import bundle_delegate
from edgelift.errors import InvalidArgumentError
from tests import modelkit


def _scaled_dense(factor: float, seed: int = 0):
    """modelkit's dense layer with its output multiplied by `factor`: the same model at another output range."""
    model = modelkit.dense(seed=seed)
    keras = modelkit.keras()
    return keras.Model(model.input, keras.layers.Rescaling(factor)(model.output))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("float-models")
    paths = {}
    for name, data in (("dense", modelkit.cached("float", modelkit.dense)),
                       ("dense_x1000", modelkit.float_tflite(_scaled_dense(1000.0))),
                       ("conv_int8", modelkit.cached("int8", modelkit.conv2d))):
        paths[name] = d / f"{name}.tflite"
        paths[name].write_bytes(data)
    return paths


def test_model_kind_picks_the_device_delegate(models):
    assert bundle_delegate.choose(models["dense"], "auto") == "xnnpack"
    assert bundle_delegate.choose(models["conv_int8"], "auto") == "neon"
    assert bundle_delegate.choose(models["conv_int8"], "xnnpack") == "xnnpack"
    with pytest.raises(InvalidArgumentError, match="unknown device delegate 'gpu'"):
        bundle_delegate.choose(models["dense"], "gpu")


def test_tolerance_follows_the_output_range(models, tmp_path):
    small = edgelift.bundle(models["dense"], target="x86_64", output=tmp_path / "a").manifest["reference"]
    large = edgelift.bundle(models["dense_x1000"], target="x86_64", output=tmp_path / "b").manifest["reference"]
    ref_small = np.load(tmp_path / "a" / small["outputs"][0])
    ref_large = np.load(tmp_path / "b" / large["outputs"][0])
    np.testing.assert_allclose(ref_large, 1000.0 * ref_small, rtol=1e-5)  # same model, 1000x the range
    for ref, y in ((small, ref_small), (large, ref_large)):
        assert ref["exact"] is False
        assert ref["tolerances"][0] >= bundle_delegate.RELATIVE_TOLERANCE * float(np.abs(y).max()) * 0.999
    # a fixed 1e-4 would hold the x1000 model to 0.1 ppm of its range; the derived one scales with it
    assert large["tolerances"][0] == pytest.approx(1000.0 * small["tolerances"][0], rel=0.01)


def test_self_check_fails_past_the_tolerance_and_passes_inside(models, tmp_path):
    b = edgelift.bundle(models["dense_x1000"], target="x86_64", output=tmp_path / "b")
    manifest = b.manifest
    tol = manifest["reference"]["tolerances"][0]
    ref = np.load(b.path / manifest["reference"]["outputs"][0])
    for factor, passes in ((0.25, True), (2.0, False)):
        shifted = ref.copy()
        shifted.flat[3] += factor * tol
        np.save(b.path / "reference" / "shifted.npy", shifted)
        edited = json.loads(json.dumps(manifest))
        edited["reference"]["outputs"] = ["reference/shifted.npy"]
        if passes:
            assert agent.self_check(str(b.path), edited)["outputs"][0]["equal"] is True
        else:
            with pytest.raises(agent.StepFailed, match="within"):
                agent.self_check(str(b.path), edited)


def test_self_check_atol_is_recorded_and_checked(models, tmp_path, capsys):
    b = edgelift.bundle(models["dense"], target="x86_64", output=tmp_path / "b", self_check_atol=0.02)
    ref = b.manifest["reference"]
    assert ref["tolerances"] == [0.02] and ref["tolerance_source"] == "--self-check-atol 0.02"
    assert "within 0.02 (--self-check-atol 0.02)" in b.summary()
    for bad in ("-1", "nan", "inf"):
        out = tmp_path / f"bad{bad}"
        code = main(["bundle", str(models["dense"]), "--target", "x86_64", "-o", str(out), "--self-check-atol", bad])
        err = capsys.readouterr().err
        assert code == 2 and f"--self-check-atol must be a finite number >= 0, got {float(bad)!r}" in err, err
        assert not out.exists()


def test_int8_with_our_delegate_stays_bit_exact(models, tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["bundle", str(models["conv_int8"]), "--target", "x86_64", "-o", str(out), "--self-check-atol", "0.5"])
    err = capsys.readouterr().err
    assert code == 2 and "bit-exact" in err and "--self-check-atol 0.5" in err and not out.exists()
    # an int8 model forced onto XNNPACK: not our delegate, so one quantization step is allowed
    b = edgelift.bundle(models["conv_int8"], target="x86_64", output=out, device_delegate="xnnpack")
    assert b.manifest["reference"]["exact"] is False and b.manifest["reference"]["tolerances"] == [1.0]
    assert b.manifest["delegate"]["kind"] == "xnnpack"
    assert agent.self_check(str(b.path), b.manifest)["outputs"][0]["max_abs_diff"] <= 1.0


def test_float_bundle_refuses_a_delegate_library(models, tmp_path, capsys):
    out = tmp_path / "b"
    code = main(["bundle", str(models["dense"]), "--target", "x86_64", "-o", str(out),
                 "--delegate-library", str(tmp_path / "x.so")])
    err = capsys.readouterr().err
    assert code == 2 and "runs with xnnpack on the device" in err and "--device-delegate neon" in err
    assert not out.exists()


def test_neon_run_of_a_float_bundle_names_its_delegate(models, tmp_path):
    b = edgelift.bundle(models["dense"], target="x86_64", output=tmp_path / "b")
    with pytest.raises(agent.StepFailed, match="carries no edgelift NEON delegate.*xnnpack"):
        agent.make_interpreter(str(b.path), b.manifest, "neon")
