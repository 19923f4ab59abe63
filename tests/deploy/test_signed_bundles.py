"""Signed bundles (ssh-keygen -Y): a device that keeps <install dir>/allowed_signers runs only bundles signed by
a key listed there — the agent refuses, at verify, an unsigned bundle, one signed by another key, and one whose
manifest changed after signing (an edited agent with updated checksums); a device without the file takes both.
Locally with the agent and the x86-64 delegate, then end to end over loopback SSH to the emulated Pi."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

import edgelift
from edgelift.cli import main as cli_main
from edgelift.device.remote.signing import allowed_signers_line
from edgelift.errors import ModelNotFoundError
from tests import modelkit
from tests.deploy.test_agent_local import agent, native_delegate  # noqa: F401 (fixture)


def keypair(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True)
    return path, path.with_name(path.name + ".pub")


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    return {"ci": keypair(d / "ci"), "stranger": keypair(d / "stranger")}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "conv.tflite"
    path.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    return path


def staged(base, bundle):
    """`bundle` copied where a deploy puts it: <install dir>/staging/<release> (a new release each time)."""
    n = len(list((base / "staging").glob("*"))) if (base / "staging").is_dir() else 0
    dest = base / "staging" / f"rel{n}-{bundle.name}"
    shutil.copytree(bundle, dest)
    return dest


def test_a_device_with_allowed_signers_runs_only_what_a_trusted_key_signed(tmp_path, keys, model,
                                                                           native_delegate):  # noqa: F811
    def make(name, **kw):
        return edgelift.bundle(model, target="x86_64", output=tmp_path / name, delegate_library=native_delegate,
                               **kw).path

    signed, unsigned = make("signed", sign=keys["ci"][0]), make("unsigned")
    other = make("other", sign=keys["stranger"][0])
    assert (signed / "manifest.json.sig").is_file() and not (unsigned / "manifest.json.sig").exists()

    open_device = tmp_path / "open"  # no allowed_signers: both kinds deploy
    for b, state in ((signed, "signed (not required here)"), (unsigned, "unsigned")):
        code, result = agent(staged(open_device, b), "verify")
        assert code == 0 and result["signature"] == state, result

    device = tmp_path / "locked"
    device.mkdir()
    (device / "allowed_signers").write_text(allowed_signers_line(keys["ci"][1], "ci@example.com") + "\n")
    code, result = agent(staged(device, signed), "check")
    assert code == 0 and result["signature"] == "signed by ci@example.com" and result["exact"], result
    code, result = agent(staged(device, unsigned), "verify")
    assert code == 1 and "accepts only signed bundles" in result["message"], result
    code, result = agent(staged(device, other), "verify")
    assert code == 1 and "signed by a key that" in result["message"] and "does not list" in result["message"]

    # the attack the checksums alone let through: an edited agent, its sha256 updated in the manifest
    forged = staged(device, signed)
    script = forged / "agent" / "edgelift_agent.py"
    script.write_text(script.read_text() + "\n# evil\n")
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["files"]["agent/edgelift_agent.py"] = {"sha256": hashlib.sha256(script.read_bytes()).hexdigest(),
                                                    "size": script.stat().st_size}
    (forged / "manifest.json").write_text(json.dumps(manifest))
    code, result = agent(forged, "verify")
    assert code == 1 and "changed after it was signed" in result["message"], result


def test_bad_keys_are_refused_before_any_work(tmp_path, keys, model, capsys):
    with pytest.raises(ModelNotFoundError, match="signing key"):
        edgelift.bundle(model, output=tmp_path / "b", sign=tmp_path / "missing")
    assert not (tmp_path / "b").exists()
    (tmp_path / "notakey").write_text("hello\n")
    code = cli_main(["bundle", str(model), "-o", str(tmp_path / "b"), "--sign", str(tmp_path / "notakey")])
    err = capsys.readouterr().err
    assert code != 0 and "cannot sign with" in err and not (tmp_path / "b").exists(), err
    with pytest.raises(edgelift.errors.InvalidArgumentError, match="not an OpenSSH public key"):
        allowed_signers_line(keys["ci"][0], "ci")
    with pytest.raises(edgelift.errors.InvalidArgumentError, match="principal"):
        allowed_signers_line(keys["ci"][1], "ci; rm -rf /")


@pytest.mark.ssh
@pytest.mark.qemu
@pytest.mark.slow
def test_trust_then_only_signed_bundles_deploy(tmp_path, keys, model, capsys, ssh_config, pi_python):
    remote = tmp_path / "device"
    common = ["--host", "pi", "--ssh-config", str(ssh_config), "--remote-dir", str(remote)]
    code = cli_main(["device", "trust", str(keys["ci"][1]), "--principal", "ci", *common])
    out = capsys.readouterr().out
    assert code == 0 and "ci added" in out, out
    assert cli_main(["device", "trust", str(keys["ci"][1]), "--principal", "ci", *common]) == 0
    assert "already trusted" in capsys.readouterr().out
    assert len((remote / "allowed_signers").read_text().splitlines()) == 1

    deploy = ["deploy", *common, "--remote-python", pi_python]
    code = cli_main([deploy[0], str(model), *deploy[1:]])  # bundled on the fly, unsigned
    err = capsys.readouterr().err
    assert code != 0 and "accepts only signed bundles" in err and not (remote / "current").exists(), err
    signed = edgelift.bundle(model, output=tmp_path / "signed", sign=keys["ci"][0]).path
    code = cli_main([deploy[0], str(signed), *deploy[1:]])
    captured = capsys.readouterr()
    assert code == 0 and "deployed" in captured.out, captured.err
    assert (remote / "current" / "manifest.json.sig").is_file()
