"""Shared helpers for the NEON delegate tests: conversions with chosen calibration ranges, interpreters with
and without the delegate, exact comparison. Also run as a script by the sanitizer test (see run_cases)."""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CACHE = ROOT / ".cache" / "modelkit"


def convert(builder_name: str, low: float = -1.0, high: float = 1.0, per_tensor_dense: bool = False,
            **kwargs) -> bytes:
    """int8 model (int8 in/out) of tests.modelkit.<builder_name>(**kwargs), calibrated on uniform [low, high].

    A skewed range puts the input zero point at an extreme (e.g. [0, 1] gives -128). per_tensor_dense: Dense
    weights quantized per tensor (the converter's default is per channel). Cached on disk.
    """
    key = json.dumps(["neon-int8-v2", builder_name, low, high, kwargs] + (["pt"] if per_tensor_dense else []),
                     sort_keys=True, default=str)
    path = CACHE / f"neon-{builder_name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.tflite"
    if path.exists():
        return path.read_bytes()
    from tests import modelkit

    model = getattr(modelkit, builder_name)(**kwargs)
    shape = tuple(d or 1 for d in model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    data = rng.uniform(low, high, (32, *shape)).astype(np.float32)
    if per_tensor_dense:
        from edgelift._tf import tensorflow

        tf = tensorflow()
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([data[i : i + 1]] for i in range(len(data)))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
        blob = conv.convert()
    else:
        blob = modelkit.int8_tflite(model, data=data, samples=32)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)
    return blob


@functools.lru_cache(maxsize=8)
def _delegate(library: str, kernels: str, log_level: str, threads: int = 1, fuse: str = "off"):
    from ai_edge_litert.interpreter import load_delegate

    return load_delegate(library, {"num_threads": str(threads), "kernels": kernels, "log_level": log_level,
                                   "fuse": fuse})


def interpreter(model: bytes, library: str | None = None, kernels: str = "auto", log_level: str = "silent",
                threads: int = 1, fuse: str = "off"):
    """A LiteRT interpreter with the builtin kernels only (no XNNPACK), plus the NEON delegate if library."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    delegates = [_delegate(library, kernels, log_level, threads, fuse)] if library else []
    it = Interpreter(
        model_content=model,
        experimental_delegates=delegates,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    it.allocate_tensors()
    return it


def inputs_for(it, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for d in it.get_input_details():
        if d["dtype"] == np.int8:
            out.append(rng.integers(-128, 128, d["shape"], dtype=np.int8))
        else:
            out.append(rng.uniform(-1, 1, d["shape"]).astype(d["dtype"]))
    return out


def run(it, xs: list[np.ndarray]) -> list[np.ndarray]:
    for d, x in zip(it.get_input_details(), xs, strict=True):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def assert_identical(model: bytes, library: str, *, seeds=(0, 1, 2), kernels: str = "auto", threads: int = 1,
                     fuse: str = "off") -> None:
    """Delegate output == builtin output, bit for bit, for random full-range inputs; explains a mismatch."""
    ref = interpreter(model)
    neon = interpreter(model, library, kernels=kernels, threads=threads, fuse=fuse)
    for seed in seeds:
        xs = inputs_for(ref, seed)
        for i, (want, got) in enumerate(zip(run(ref, xs), run(neon, xs), strict=True)):
            if not np.array_equal(want, got):
                diff = np.argwhere(want != got)
                first = tuple(int(v) for v in diff[0])
                raise AssertionError(
                    f"output {i} differs at {len(diff)} of {want.size} positions (seed {seed}); first at index "
                    f"{first}: builtin {int(want[first])}, neon {int(got[first])}; shape {want.shape}"
                )
