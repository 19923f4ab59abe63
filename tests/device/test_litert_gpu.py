"""`--backend litert-gpu`: float models on LiteRT's CompiledModel. The plumbing is proved on the CPU accelerator
(same API, same buffers); the GPU accelerator itself needs a Vulkan GPU, which this machine class lacks, so here
it must fail with the reason named, never fall back to the CPU silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgelift.cli import main
from edgelift.device.runtime import load_interpreter
from edgelift.device.runtime.litert_gpu import LiteRTGpuEngine
from edgelift.errors import RuntimeUnavailableError, UnsupportedModelError
from tests import modelkit

HAS_GPU_DEVICE = any(Path(p).exists() for p in ("/dev/nvidia0", "/dev/dri/renderD128", "/dev/kfd"))


def two_inputs():
    """conv(a) + b * 10 with inputs of the same shape: swapped inputs would give other outputs."""
    from edgelift._tf import keras

    k = keras()
    a, b = k.layers.Input((6, 6, 3), name="a"), k.layers.Input((6, 6, 3), name="b")
    return k.Model([a, b], k.layers.Add()([k.layers.Conv2D(3, 1)(a), k.layers.Rescaling(10.0)(b)]))


@pytest.mark.parametrize("builder", [modelkit.small_resnet, two_inputs])
def test_cpu_accelerator_matches_the_interpreter(builder):
    model = modelkit.cached("float", builder)
    ref = load_interpreter(model, "xnnpack")
    xs = ref.random_inputs(seed=3, batch=5)
    engine = LiteRTGpuEngine(model, accelerator="cpu")
    try:
        got = engine.predict_raw(xs)
        assert "CPU accelerator, fully accelerated" in engine.describe()
    finally:
        engine.close()
    for g, e in zip(got, ref.predict_raw(xs), strict=True):
        assert g.shape == e.shape and g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(HAS_GPU_DEVICE, reason="a GPU device node exists here: the accelerator may really start")
def test_no_gpu_is_a_clear_error_not_a_cpu_fallback(tmp_path, capfd):
    model = tmp_path / "f.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.small_resnet))
    with pytest.raises(RuntimeUnavailableError, match="GPU accelerator .* found no usable GPU here"):
        LiteRTGpuEngine(model)
    capfd.readouterr()
    assert main(["validate", str(model), "--backend", "litert-gpu", "--reference-delegate", "builtin",
                 "--samples", "2"]) == 3
    err = capfd.readouterr().err
    assert "No adapters found" in err and "--backend gpu" in err
    assert "Traceback" not in err and "INFO:" not in err  # LiteRT's accelerator log stays captured


def test_quantized_model_is_refused_with_the_exact_path_named(tmp_path, capsys):
    model = tmp_path / "q.tflite"
    model.write_bytes(modelkit.cached("int8", modelkit.small_resnet))
    with pytest.raises(UnsupportedModelError, match="is quantized"):
        LiteRTGpuEngine(model, accelerator="cpu")
    assert main(["validate", str(model), "--backend", "litert-gpu", "--reference-delegate", "builtin"]) == 2
    assert "use --backend gpu (exact integer XLA path)" in capsys.readouterr().err


def test_nothing_from_litert_reaches_stderr(tmp_path):
    """LiteRT logs every accelerator it registers and destroys (some at process exit): none of it shows."""
    model = tmp_path / "f.tflite"
    model.write_bytes(modelkit.cached("float", modelkit.small_resnet))
    code = ("import numpy as np\n"
            "from edgelift.device.runtime.litert_gpu import LiteRTGpuEngine\n"
            f"e = LiteRTGpuEngine({str(model)!r}, accelerator='cpu')\n"
            "print(e.predict_raw(np.zeros((2, 32, 32, 3), np.float32))[0].shape)\n"
            "e.close()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "(2, 10)" and done.stderr == ""
