"""What running convert's TensorFlow steps in a child process costs: `edgelift convert` wall time, child vs
EDGELIFT_CONVERT_IN_PROCESS=1, alternated in one run so both see the same machine load (medians, spread).

    .venv/bin/python benchmarks/convert_isolation_bench.py [--runs 5]

Also the API case: the second conversion in one Python process (the worker has TensorFlow loaded already), and
an in-memory model's conversion there (saved for the child and reloaded by it), child and in-process alternated
in that one process. `--cases memory` runs only that one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _model(d: Path) -> Path:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    from edgelift._tf import keras

    L = keras().layers
    m = keras().Sequential([L.Input((16, 16, 3)), L.Conv2D(8, 3, activation="relu"), L.Flatten(), L.Dense(4)])
    m.save(d / "m.keras")
    np.save(d / "cal.npy", np.random.default_rng(0).uniform(0, 1, (50, 16, 16, 3)).astype(np.float32))
    return d / "m.keras"


def _cli(d: Path, in_process: bool) -> float:
    env = {**os.environ, "EDGELIFT_CONVERT_IN_PROCESS": "1" if in_process else "0"}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "edgelift", "convert", "m.keras", "-o", "o.tflite", "--calibration",
                    "cal.npy"], cwd=d, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


_API = """
import os, sys, time
import edgelift
edgelift.convert("m.keras", "a.tflite", calibration="cal.npy")
t = time.perf_counter()
edgelift.convert("m.keras", "b.tflite", calibration="cal.npy")
print(time.perf_counter() - t)
"""


def _api(d: Path, in_process: bool) -> float:
    env = {**os.environ, "EDGELIFT_CONVERT_IN_PROCESS": "1" if in_process else "0"}
    out = subprocess.run([sys.executable, "-c", _API], cwd=d, env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


_MEMORY = """
import os, statistics, time
import edgelift
from edgelift._tf import keras
m = keras().models.load_model("m.keras")
times = {"0": [], "1": []}
for i in range(1 + RUNS):
    for mode in ("0", "1"):
        os.environ["EDGELIFT_CONVERT_IN_PROCESS"] = mode
        t = time.perf_counter()
        edgelift.convert(m, f"mem{mode}.tflite", calibration="cal.npy")
        if i:  # the first round starts the worker and traces the model in this process: left out
            times[mode].append(time.perf_counter() - t)
print(" ".join(map(str, times["0"])))
print(" ".join(map(str, times["1"])))
"""


def _memory(d: Path, runs: int) -> tuple[list[float], list[float]]:
    out = subprocess.run([sys.executable, "-c", _MEMORY.replace("RUNS", str(runs))], cwd=d, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()
    return [float(v) for v in out[-2].split()], [float(v) for v in out[-1].split()]


def _line(what: str, child: list[float], inproc: list[float]) -> str:
    mc, mi = statistics.median(child), statistics.median(inproc)
    return (f"{what}: child {mc:.2f} s [{min(child):.2f}-{max(child):.2f}], in-process {mi:.2f} s "
            f"[{min(inproc):.2f}-{max(inproc):.2f}], ratio {mc / mi:.3f} (median of {len(child)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cases", choices=("all", "memory"), default="all")
    args = ap.parse_args()
    runs = args.runs
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _model(d)
        child, inproc = _memory(d, runs)
        print(_line("API, an in-memory model, warm", child, inproc))
        if args.cases == "memory":
            return
        results: dict[str, dict[bool, list[float]]] = {"cli": {True: [], False: []}, "api": {True: [], False: []}}
        for _ in range(runs):
            for in_process in (False, True):
                results["cli"][in_process].append(_cli(d, in_process))
                results["api"][in_process].append(_api(d, in_process))
        print(_line("edgelift convert (whole command)", results["cli"][False], results["cli"][True]))
        print(_line("API, second convert in one process", results["api"][False], results["api"][True]))


if __name__ == "__main__":
    main()
