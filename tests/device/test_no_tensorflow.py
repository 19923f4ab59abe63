"""The device side never imports TensorFlow: bench and validate against a .tflite reference run without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_bench_and_validate_run_without_importing_tensorflow(conv_int8, tmp_path):
    model = tmp_path / "conv.tflite"
    model.write_bytes(conv_int8)
    code = textwrap.dedent(f"""
        import sys
        from edgelift.cli import main
        assert main(["bench", {str(model)!r}, "--delegate", "builtin,xnnpack", "--runs", "3", "--json"]) == 0
        assert main(["validate", {str(model)!r}, "--reference-delegate", "builtin", "--exact", "--samples", "4",
                     "--report", {str(tmp_path / "v.html")!r}]) == 0
        import edgelift.device.checking.diagnose, edgelift.device.runtime.engines  # noqa: F401
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "keras"))
        assert not heavy, heavy
        print("no tensorflow")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "no tensorflow" in res.stdout and "identical        100.000%" in res.stdout
