"""Images/second validating MobileNetV2 int8 (224, alpha 1.0): the GPU path (XLA, batch 32 and 64) against a
loop over LiteRT's interpreter (builtin kernels and XNNPACK), measured side by side in one run.

    .venv/bin/python benchmarks/gpu_bench.py [--images 512] [--threads 2] [--batches 32,64]

Each figure is the median of --repeats timed passes over all images (compilation excluded, reported apart).
The GPU path runs on CUDA when JAX sees a GPU, on the CPU otherwise; the interpreters use --threads threads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class LiteRTLoop:
    """One interpreter, invoked image by image (what validating with the runtime costs)."""

    def __init__(self, model: bytes, resolver: str, threads: int):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.it = Interpreter(model_content=model, num_threads=threads,
                              experimental_op_resolver_type=getattr(OpResolverType, resolver))
        self.it.allocate_tensors()
        self.i_idx = self.it.get_input_details()[0]["index"]
        self.o_idx = self.it.get_output_details()[0]["index"]
        self.out_shape = tuple(self.it.get_output_details()[0]["shape"][1:])

    def __call__(self, xs: np.ndarray) -> np.ndarray:
        out = np.empty((len(xs), *self.out_shape), np.int8)
        for k, x in enumerate(xs):
            self.it.set_tensor(self.i_idx, x[None])
            self.it.invoke()
            out[k] = self.it.get_tensor(self.o_idx)[0]
        return out


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

    runners = {
        "litert builtin": LiteRTLoop(model, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", a.threads),
        "litert xnnpack": LiteRTLoop(model, "BUILTIN", a.threads),
    }
    for b in (int(s) for s in a.batches.split(",")):
        eng = GpuEngine(model, batch=b)
        t = time.perf_counter()
        eng.predict_raw(xs[:b])
        print(f"gpu path batch {b}: compile + first batch {time.perf_counter() - t:.1f} s; {eng.describe()}")
        runners[f"gpu path batch {b}"] = (lambda e: (lambda x: e.predict_raw(x)[0]))(eng)

    times: dict[str, list[float]] = {k: [] for k in runners}
    outs: dict[str, np.ndarray] = {}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for _ in range(a.repeats):  # round robin, so load from other processes hits every contender alike
        for label, run in runners.items():
            t = time.perf_counter()
            outs[label] = run(xs)
            times[label].append(time.perf_counter() - t)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    rates = {k: a.images / statistics.median(v) for k, v in times.items()}
    ref_out = outs["litert builtin"]
    for label, rate in rates.items():
        diff = np.count_nonzero(outs[label] != ref_out)
        spread = ", ".join(f"{a.images / t:.1f}" for t in times[label])
        print(f"{label:>22}: {rate:8.1f} img/s median ({spread}); outputs differing from builtin: "
              f"{diff}/{ref_out.size}")

    base = rates["litert builtin"]
    print("ratios to the builtin loop: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in rates.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
