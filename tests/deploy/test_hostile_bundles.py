"""A bundle is untrusted input: every name in its manifest becomes a path on the device. Each tampered bundle
here is refused with one line naming the value, by the desktop (load_bundle, `edgelift deploy`) before it
reads, uploads or removes anything, and by the on-device agent before it runs anything — and nothing outside
the bundle is touched. Bit rot at rest is caught by every `run`."""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np
import pytest

import edgelift
from edgelift.cli import main as cli_main
from edgelift.device.remote.bundle import load_bundle
from edgelift.errors import InvalidModelError
from tests import modelkit
from tests.deploy.test_agent_local import agent, native_delegate  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, native_delegate):  # noqa: F811 (the imported fixture, requested by name)
    base = tmp_path_factory.mktemp("hostile")
    model = base / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    return edgelift.bundle(model, target="x86_64", output=base / "pristine", delegate_library=native_delegate).path


@pytest.fixture()
def victim(tmp_path, pristine):
    """A copy of a good bundle next to a sibling folder an attacker would like to see deleted or read."""
    b = tmp_path / "install" / "bundle"
    shutil.copytree(pristine, b)
    sibling = tmp_path / "x"
    sibling.mkdir()
    (sibling / "precious.txt").write_text("keep me")
    return b


def edit(bundle, change) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(m):
        node = m
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return change


def _rename_file(old, new, *, also=None):
    def change(m):
        m["files"][new] = m["files"].pop(old)
        if also:
            m[also]["file"] = new
    return change


PASSWD = {"sha256": "0" * 64, "size": 1}
CASES = {
    "bundle_id leaves the install dir": (_set("bundle_id", "/../../../x"), "bundle_id '/../../../x'"),
    "bundle_id names a sibling": (_set("bundle_id", "../x"), "bundle_id '../x'"),
    "model.file absolute": (_set("model", "file", "/etc/passwd"), "model.file '/etc/passwd'"),
    "files lists an absolute path": (lambda m: (m["files"].update({"/etc/passwd": PASSWD}),
                                                m["model"].update(file="/etc/passwd")), "'/etc/passwd'"),
    "model outside the bundle": (_rename_file("model.tflite", "../outside.tflite", also="model"),
                                 "'../outside.tflite'"),
    "reference input outside": (lambda m: m["reference"]["inputs"].__setitem__(0, "../../x/precious.txt"),
                                "'../../x/precious.txt'"),
    "backslash path": (_rename_file("model.tflite", "..\\model.tflite", also="model"), "'..\\\\model.tflite'"),
    "hidden path part": (_rename_file("model.tflite", "reference/.model.tflite", also="model"),
                         "'reference/.model.tflite'"),
    "option-like path": (_rename_file("model.tflite", "-rf", also="model"), "'-rf'"),
    "no files": (lambda m: m.pop("files"), "'files' is missing"),
    "size not a number": (lambda m: m["files"]["model.tflite"].update(size="12"), "size '12'"),
    "sha256 not hex": (lambda m: m["files"]["model.tflite"].update(sha256="z" * 64), "sha256"),
    "no delegate entry": (lambda m: m.pop("delegate"), "'delegate' is missing"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_tampered_manifest_is_refused_on_both_sides(case, victim, capsys):
    change, named = CASES[case]
    edit(victim, change)
    before = sorted(p.relative_to(victim.parents[1]).as_posix() for p in victim.parents[1].rglob("*"))
    with pytest.raises(InvalidModelError) as exc:
        load_bundle(victim)
    assert named in exc.value.message, exc.value.message
    # the CLI: one line, a non-zero exit, before any connection (port 9 has no sshd)
    code = cli_main(["deploy", str(victim), "--host", "127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code != 0 and named in err and "Traceback" not in err, err
    # the agent on the device refuses the same bundle at verify, and at run
    for command in ("verify", "run"):
        rc, result = agent(victim, command, stdin=b"")
        assert rc == 1 and result["step"] == "verify" and named in result["message"], result
    after = sorted(p.relative_to(victim.parents[1]).as_posix() for p in victim.parents[1].rglob("*"))
    assert after == before
    assert (victim.parents[1] / "x" / "precious.txt").read_text() == "keep me"


def test_unlisted_files_and_symbolic_links_are_refused(victim):
    (victim / "reference" / "extra.sh").write_text("#!/bin/sh\nrm -rf ~\n")
    with pytest.raises(InvalidModelError, match="not in its manifest: 'reference/extra.sh'"):
        load_bundle(victim)
    rc, result = agent(victim, "verify")
    assert rc == 1 and "'reference/extra.sh'" in result["message"]
    (victim / "reference" / "extra.sh").unlink()
    model = victim / "model.tflite"
    target = victim.parents[1] / "x" / "precious.txt"
    model.unlink()
    os.symlink(target, model)
    with pytest.raises(InvalidModelError, match="symbolic link 'model.tflite'"):
        load_bundle(victim)
    rc, result = agent(victim, "verify")
    assert rc == 1 and "symbolic link 'model.tflite'" in result["message"]


def test_a_byte_flipped_at_rest_is_caught_by_run(victim):
    buf = io.BytesIO()
    np.save(buf, np.zeros((1, 9, 9, 3), np.int8))
    rc, result = agent(victim, "run", stdin=buf.getvalue())
    assert rc == 0 and result["ok"], result
    model = victim / "model.tflite"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    rc, result = agent(victim, "run", stdin=buf.getvalue())
    assert rc == 1 and result["step"] == "verify" and "checksum mismatch for 'model.tflite'" in result["message"]


def test_the_bundle_id_names_target_and_delegate_options(tmp_path):
    model = tmp_path / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    ids = {(target, kernels): edgelift.bundle(model, target=target, kernels=kernels, output=tmp_path / "b").bundle_id
           for target, kernels in (("rpi4", "auto"), ("rpi5", "auto"), ("rpi5", "dot"))}
    assert len(set(ids.values())) == 3, ids
    again = edgelift.bundle(model, target="rpi5", kernels="dot", output=tmp_path / "b").bundle_id
    assert again == ids[("rpi5", "dot")]
