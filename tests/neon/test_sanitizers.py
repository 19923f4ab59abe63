"""The AddressSanitizer + UndefinedBehaviorSanitizer build of the delegate runs the op tests clean.

The Python interpreter is not instrumented, so the ASan runtime is preloaded (LD_PRELOAD) into a subprocess
that loads build/asan/libedgelift_neon.so through LiteRT's load_delegate. Any ASan report or UBSan
"runtime error" fails the test (UBSan is built with -fno-sanitize-recover: the process aborts on the first).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import opcatalogue, shapemodels, zoo
from tests.neon import harness
from tests.neon.test_convops import GROUPED, TRANSPOSE_CONV
from tests.neon.test_ops import CASES, PARTIAL

HERE = Path(__file__).resolve().parent


def _gcc_lib(name: str) -> str:
    out = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True, check=True)
    path = out.stdout.strip()
    if not os.path.isabs(path):
        pytest.fail(f"gcc does not know {name}: install gcc (Debian's gcc ships the sanitizer runtimes)")
    return os.path.realpath(path)


def _preload() -> str:
    # libstdc++ too: ASan must find the real __cxa_throw when LiteRT's C++ throws (Python does not link it)
    return f"{_gcc_lib('libasan.so')} {_gcc_lib('libstdc++.so.6')}"


@pytest.mark.slow
def test_op_models_under_asan_and_ubsan(neon_lib_asan, tmp_path):
    paths = []
    for name, builder, calib, kwargs, *_ in CASES + PARTIAL + TRANSPOSE_CONV + GROUPED:
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(harness.convert(builder, *calib, **kwargs))  # converted here, not under ASan
        paths.append(str(path))
    # every broadcast path of ADD and MUL (fivefold loops, scalar broadcast, switched inputs, generic); BATCH_MATMUL
    # with every flag, broadcast and a constant RHS (packed at prepare) or a variable one (packed into scratch)
    for sweep in opcatalogue.SWEEPS:
        if sweep.id in ("add-mnv3_rescaling", "mul-mnv3_se", "batch_matmul-offsets", "batch_matmul-const_zp_extremes"):
            path = tmp_path / f"sweep-{sweep.id}.tflite"
            path.write_bytes(opcatalogue.convert(sweep))
            paths.append(str(path))
    # SUM: the odometer over kept and reduced axes (all of them, negative ones), the int32 sums and saturation
    for sweep in opcatalogue.LAYER_SWEEPS:
        if sweep.id in ("sum-all_keep_in-1_1", "sum-negative_samequant_in-2_1",
                        "sum-every_sum_channels_tightout_in-1_1"):
            path = tmp_path / f"sweep-{sweep.id}.tflite"
            path.write_bytes(opcatalogue.convert(sweep))
            paths.append(str(path))
    # shape inference and int32 folding (shape_infer.c) on dynamic-batch graphs, at batch 1 and resized to 2
    for name, blob in (("shapes", shapemodels.dynamic_reshapes()), ("yolo_head", zoo.tflite("yolo_head")),
                       ("transformer_block", zoo.tflite("transformer_block"))):
        path = tmp_path / f"resized-{name}.tflite"
        path.write_bytes(blob)
        paths.append(str(path))
    assert_clean_under_sanitizers(neon_lib_asan, paths)


def assert_clean_under_sanitizers(library, paths, timeout: float = 900, fuse: str = "off") -> None:
    """Run every model at `paths` through the ASan+UBSan `library` with option fuse=`fuse`
    (tests/neon/sanitized_run.py: identical to builtin, and the first three also resized); any sanitizer report
    or mismatch fails."""
    env = dict(os.environ)
    env.update(
        LD_PRELOAD=_preload(),
        ASAN_OPTIONS="detect_leaks=0:alloc_dealloc_mismatch=0:abort_on_error=0:exitcode=86",
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    proc = subprocess.run([sys.executable, str(HERE / "sanitized_run.py"), str(library), f"fuse={fuse}",
                           *map(str, paths)],
                          capture_output=True, text=True, env=env, timeout=timeout)
    report = proc.stderr[-4000:]
    assert "ERROR: AddressSanitizer" not in proc.stderr, report
    assert "runtime error:" not in proc.stderr, report
    assert proc.returncode == 0, report
    assert proc.stdout.count("ok ") == len(paths), report + proc.stdout[-2000:]
