"""The on-device agent run here, by this machine's Python, on bundles carrying the x86-64 build of the delegate:
the protocol, verify, the self-check (exact for int8, stated tolerance for float) and run — without qemu."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import edgelift
from edgelift.delegates import neon
from tests import modelkit

MARKER = "@@edgelift@@"


def agent(bundle, *args, stdin: bytes | None = None, **popen) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, str(bundle / "agent" / "edgelift_agent.py"), *args, "--bundle", str(bundle)],
                          input=stdin, capture_output=True, timeout=120, **popen)
    lines = [ln for ln in proc.stdout.decode().splitlines() if ln.startswith(MARKER)]
    assert len(lines) == 1, proc.stdout.decode() + proc.stderr.decode()
    return proc.returncode, json.loads(lines[0][len(MARKER):])


@pytest.fixture(scope="module")
def native_delegate():
    try:
        return neon.library_path()
    except edgelift.errors.DelegateError as exc:
        pytest.fail(f"the x86-64 delegate is not built ({exc}); `make native` builds it", pytrace=False)


def test_int8_bundle_self_check_and_run(tmp_path, native_delegate):
    model = tmp_path / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    b = edgelift.bundle(model, target="x86_64", output=tmp_path / "b", delegate_library=native_delegate).path
    code, result = agent(b, "check")
    assert code == 0 and result["ok"] and result["exact"] is True
    assert result["files"] == 5 and result["outputs"][0] == {"equal": True, "mismatches": 0, "elements": 648}
    assert "1 of 1 nodes delegated" in result["partition"]
    # a wrong-shaped input is refused with the shape the model wants
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 9, 9, 3), np.int8))
    code, result = agent(b, "run", stdin=buf.getvalue())
    assert code == 1 and result["step"] == "run" and "(1, 9, 9, 3)" in result["message"]


def test_float_bundle_runs_xnnpack_within_its_recorded_tolerance(tmp_path):
    model = tmp_path / "dense.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.dense))
    b = edgelift.bundle(model, target="x86_64", output=tmp_path / "b")
    ref = b.manifest["reference"]
    assert ref["exact"] is False and ref["tolerances"][0] > 0 and "derived" in ref["tolerance_source"]
    assert b.manifest["delegate"]["kind"] == "xnnpack" and not (b.path / "delegate").exists()
    code, result = agent(b.path, "check")
    assert code == 0 and result["ok"] and result["delegate"] == "xnnpack", result
    assert result["outputs"][0]["max_abs_diff"] <= ref["tolerances"][0]


def test_verify_names_the_damaged_or_missing_file(tmp_path, native_delegate):
    model = tmp_path / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    b = edgelift.bundle(model, target="x86_64", output=tmp_path / "b", delegate_library=native_delegate).path
    lib = b / "delegate" / "libedgelift_neon.so"
    original = lib.read_bytes()
    lib.write_bytes(original[:-1])
    code, result = agent(b, "verify")
    assert code == 1 and result["step"] == "verify"
    assert "checksum mismatch for 'delegate/libedgelift_neon.so'" in result["message"]
    lib.write_bytes(original)
    (b / "reference" / "input_0.npy").unlink()
    code, result = agent(b, "check")
    assert code == 1 and "reference/input_0.npy" in result["message"] and "missing" in result["message"]


def test_the_agent_writes_no_file_so_a_full_device_disk_cannot_hide_the_partition_line(tmp_path, native_delegate):
    # the delegate's partition line on fd 2 is read through a pipe, not a temporary file: on a full disk a C
    # write to a file fails without a word and the check would see no line. Proven with RLIMIT_FSIZE 0, under
    # which any write to a regular file kills the process (SIGXFSZ) while pipes are not limited.
    import resource

    model = tmp_path / "conv.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.conv2d))
    b = edgelift.bundle(model, target="x86_64", output=tmp_path / "b", delegate_library=native_delegate).path

    def no_file_writes():
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    code, result = agent(b, "check", preexec_fn=no_file_writes, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert code == 0 and result["ok"] and result["exact"] is True, result
    assert "1 of 1 nodes delegated" in result["partition"]
