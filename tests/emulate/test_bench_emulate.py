"""`edgelift bench MODEL --emulate rpi4|rpi5`: whole models metered on the emulated Pi, the way a user runs it."""

from __future__ import annotations

import json

import pytest

from edgelift.cli import main
from edgelift.device.emulate import emulate_bench

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def mobilenet_v1(tmp_path_factory, meter_tools):
    """A small MobileNetV1 (128x128, alpha 0.25): conv, depthwise, mean, fully connected, softmax."""
    from tests import modelkit

    path = tmp_path_factory.mktemp("emulate") / "mobilenet_v1.tflite"
    path.write_bytes(modelkit.cached("int8", modelkit.mobilenet_v1))
    return path


def cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_bench_emulate_prints_each_delegate_with_ratios_ops_and_functions(mobilenet_v1, tmp_path, capsys):
    report = tmp_path / "cost.html"
    code, out, err = cli(capsys, "bench", mobilenet_v1, "--emulate", "rpi4", "-d", "neon,xnnpack,builtin",
                         "--report", report)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("ESTIMATE for Raspberry Pi 4 (Cortex-A72, 1.8 GHz): tflite_runtime 2.14.0")
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert list(rows) == ["neon", "xnnpack", "builtin"] and "vs neon" in lines[1]
    assert rows["neon"].split()[6] == "1.00"
    assert "edgelift-neon: 34 of 34 nodes delegated in 1 partitions" in rows["neon"]
    assert "int8 (QS8) enabled" in rows["xnnpack"]
    by_op = next(line for line in lines if line.startswith("neon: by op"))
    assert "DEPTHWISE_CONV_2D" in by_op and "CONV_2D" in by_op
    functions = {d: [] for d in rows}
    current = None
    for line in lines:
        if line.endswith("top functions by est. cycles"):
            current = line.split(":")[0]
        elif line.startswith("  ") and current:
            functions[current].append(line)
    assert any("qs8_gemm_4x16c4__neon_mlal" in f and "(libedgelift_neon.so)" in f for f in functions["neon"])
    assert functions["xnnpack"][0].split("instr")[1].strip().startswith("xnn_"), "int8 must run in XNNPACK"
    assert not any("xnn_" in f for f in functions["builtin"])
    assert "cycles and ms are ESTIMATES" in out and "cache and TLB misses" in out
    page = report.read_text()
    assert "ESTIMATE" in page and "DEPTHWISE_CONV_2D" in page and "<table>" in page


def test_counts_are_identical_run_to_run_and_the_neon_outputs_match_builtin(mobilenet_v1):
    first = emulate_bench(mobilenet_v1, board="rpi4", delegates="neon,builtin")
    second = emulate_bench(mobilenet_v1, board="rpi4", delegates="neon")
    assert first.rows[0].instructions == second.rows[0].instructions
    assert first.rows[0].cycles == second.rows[0].cycles
    assert first.rows[0].outputs_sha256 == first.rows[1].outputs_sha256, "neon must be bit-exact with builtin"
    assert not first.notes
    data = first.as_dict()
    assert data["schema"] == "edgelift.bench-emulate/1" and data["delegates"][1]["ratio_to_first"] > 0
    json.dumps(data)


def test_rpi5_runs_the_dot_product_kernels_on_ai_edge_litert(mobilenet_v1, capsys):
    code, out, err = cli(capsys, "bench", mobilenet_v1, "--emulate", "rpi5", "-d", "neon,xnnpack", "--json",
                         "--runtime", "ai-edge-litert")
    assert code == 0, err
    data = json.loads(out)
    assert [d["runtime"] for d in data["delegates"]] == ["litert 1.4.0"] * 2
    assert data["board"]["mca_cpu"] == "cortex-a76" and data["board"]["clock_ghz"] == 2.4
    neon, xnnpack = data["delegates"]
    assert any("neondot" in f["name"] for f in neon["by_kernel"])
    assert any("neondot" in f["name"] for f in xnnpack["by_kernel"])
    assert any("Cortex-A57" in n for n in data["notes"]), "llvm 14's A76 model is named as a limit"


@pytest.mark.parametrize("env,message", [
    ("EDGELIFT_QEMU_AARCH64", "$EDGELIFT_QEMU_AARCH64 is '/nonexistent/qemu', which is not an executable file"),
    ("EDGELIFT_LLVM_MCA", "$EDGELIFT_LLVM_MCA is '/nonexistent/qemu', which is not an executable file"),
])
def test_a_missing_tool_is_one_clear_error(mobilenet_v1, monkeypatch, capsys, env, message):
    monkeypatch.setenv(env, "/nonexistent/qemu")
    code, out, err = cli(capsys, "bench", mobilenet_v1, "--emulate", "rpi4")
    assert code == 3 and out == ""
    assert err.strip().splitlines() == [err.strip()] and message in err


@pytest.mark.parametrize("args,message", [
    (["--seconds", "2"], "seconds=2.0 cannot be combined with emulate='rpi4'"),
    (["--threads", "2"], "threads=2 cannot be combined with emulate='rpi4'"),
    (["--per-op"], "per_op cannot be combined with emulate='rpi4'"),
    (["--host", "pi@example"], "--emulate rpi4 and --host pi@example measure in different places"),
    (["-d", "neon,/tmp/libfoo.so"], "delegate(s) /tmp/libfoo.so cannot be emulated"),
    (["--runs", "0"], "runs must be a whole number >= 1 with --emulate, got 0"),
])
def test_what_the_meter_cannot_honour_is_refused_before_any_work(mobilenet_v1, capsys, args, message):
    code, out, err = cli(capsys, "bench", mobilenet_v1, "--emulate", "rpi4", *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_another_delegate_build_must_be_an_aarch64_one(mobilenet_v1):
    from edgelift.delegates import neon
    from edgelift.errors import InvalidArgumentError

    x86 = neon.library_path("x86_64")
    with pytest.raises(InvalidArgumentError, match=r"is built for x86_64; the emulated Pi needs an aarch64 build"):
        emulate_bench(mobilenet_v1, board="rpi4", delegates="neon", neon_library=x86)


def test_a_delegate_that_fails_on_the_pi_is_reported_beside_the_others(mobilenet_v1, capsys):
    code, out, err = cli(capsys, "bench", mobilenet_v1, "--emulate", "rpi4", "-d", "builtin,neon",
                         "--delegate-option", "kernels=dot")  # a Pi 4 has no dot product
    assert code == 3
    rows = {line.split()[0]: line for line in out.splitlines()[2:4]}
    assert rows["builtin"].split()[6] == "1.00"
    assert "failed:" in rows["neon"] and "kernels=dot is not available on this CPU" in rows["neon"]
    assert "1 delegate(s) failed on the emulated Pi: neon" in err


def test_a_file_that_is_not_a_model_is_refused(tmp_path, capsys):
    bad = tmp_path / "notes.tflite"
    bad.write_text("not a model")
    code, out, err = cli(capsys, "bench", bad, "--emulate", "rpi4")
    assert code == 2 and "is not a TFLite flatbuffer" in err
