"""Images/second validating MobileNetV2 int8 (224, alpha 1.0): the GPU path (XLA, batch 32 and 64) against a
loop over LiteRT's interpreter (builtin kernels and XNNPACK), measured side by side in one run.

    .venv/bin/python benchmarks/gpu_bench.py [--images 512] [--threads 2] [--batches 32,64]

Each figure is the median of --repeats timed passes over all images (compilation excluded, reported apart).
The GPU path runs on CUDA when JAX sees a GPU, on the CPU otherwise; the interpreters use --threads threads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def litert_loop(model: bytes, xs: np.ndarray, resolver: str, threads: int) -> tuple[float, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model, num_threads=threads,
                     experimental_op_resolver_type=getattr(OpResolverType, resolver))
    it.allocate_tensors()
    i_idx = it.get_input_details()[0]["index"]
    o_idx = it.get_output_details()[0]["index"]
    out = np.empty((len(xs), *it.get_output_details()[0]["shape"][1:]), np.int8)
    t = time.perf_counter()
    for k, x in enumerate(xs):
        it.set_tensor(i_idx, x[None])
        it.invoke()
        out[k] = it.get_tensor(o_idx)[0]
    return time.perf_counter() - t, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="32,64")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", help="a .tflite (default: modelkit's MobileNetV2 int8, converted once and cached)")
    a = ap.parse_args(argv)

    if a.model:
        model = Path(a.model).read_bytes()
    else:
        from tests import modelkit

        model = modelkit.cached("int8", modelkit.mobilenet_v2)
    from edgelift.delegates.gpu import GpuEngine

    rng = np.random.default_rng(0)
    probe = GpuEngine(model, batch=1)
    shape = probe.inputs[0].shape[1:]
    xs = rng.integers(-128, 128, (a.images, *shape)).astype(np.int8)
    print(f"model: {probe.lowered.model.op_histogram()}; {a.images} images; interpreters: {a.threads} threads")

    rates: dict[str, float] = {}
    ref_out = None
    for resolver, label in (("BUILTIN_WITHOUT_DEFAULT_DELEGATES", "litert builtin"), ("BUILTIN", "litert xnnpack")):
        times = []
        for _ in range(a.repeats):
            dt, out = litert_loop(model, xs, resolver, a.threads)
            times.append(dt)
        if ref_out is None:
            ref_out = out
        same = np.count_nonzero(out != ref_out)
        rates[label] = a.images / statistics.median(times)
        print(f"{label:>22}: {rates[label]:8.1f} img/s (median of {a.repeats}; outputs differing from builtin: "
              f"{same}/{out.size})")

    for b in (int(s) for s in a.batches.split(",")):
        eng = GpuEngine(model, batch=b)
        t = time.perf_counter()
        eng.predict_raw(xs[:b])
        compile_s = time.perf_counter() - t
        times = []
        for _ in range(a.repeats):
            t = time.perf_counter()
            (out,) = eng.predict_raw(xs)
            times.append(time.perf_counter() - t)
        label = f"gpu path batch {b}"
        rates[label] = a.images / statistics.median(times)
        diff = np.count_nonzero(out != ref_out)
        print(f"{label:>22}: {rates[label]:8.1f} img/s on {eng.device} (compile+first batch {compile_s:.1f} s; "
              f"outputs differing from builtin: {diff}/{out.size})")

    base = rates["litert builtin"]
    print("ratios to the builtin loop: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in rates.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
