"""Run a batch of .tflite models with one TFLite runtime and save the outputs; the Pi side of the tests.

Runs inside the emulated Raspberry Pi (aarch64 python3.11, numpy 1.26, tflite-runtime 2.14 or ai-edge-litert 1.4)
and on the desktop (LiteRT 2.3) alike, so it imports only numpy and the runtime. One process runs many jobs
because every start of the emulated interpreter costs seconds.

    python3 runner.py JOBS.json      # prints one JSON object: {"env": {...}, "results": {name: {...}}}

JOBS.json: {"runtime": "tflite-runtime" | "ai-edge-litert" | "ai-edge-litert-2.3",
            "jobs": [{"name", "model", "inputs" (.npz: arg0, arg1, ...), "out" (.npz written),
                      "resolver": "builtin_without_default_delegates" | "default",
                      "delegate": null | {"path", "options": {...}}}]}
A job that fails (a refused delegate, a runtime error) is reported with its message; the batch goes on.
Whatever the runtime and delegate write to stderr during a job is captured into that job's "log".
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time


def _runtime(name: str):
    if name == "tflite-runtime":
        import tflite_runtime
        import tflite_runtime.interpreter as module

        return module, tflite_runtime.__version__
    if name in ("ai-edge-litert", "ai-edge-litert-2.3"):  # 1.4 or 2.3: which one is on PYTHONPATH
        import ai_edge_litert.interpreter as module

        try:
            from importlib.metadata import version

            ver = version("ai-edge-litert")
        except Exception:  # the version is informational only
            ver = "unknown"
        return module, ver
    raise SystemExit(f"unknown runtime {name!r}; allowed: tflite-runtime, ai-edge-litert, ai-edge-litert-2.3")


def environment(runtime: str) -> dict:
    import numpy as np

    _, version = _runtime(runtime)
    return {"machine": platform.machine(), "python": platform.python_version(), "numpy": np.__version__,
            "runtime": runtime, "runtime_version": version}


def run_job(module, job: dict) -> dict:
    import numpy as np

    kwargs = {}
    if job.get("resolver", "builtin_without_default_delegates") == "builtin_without_default_delegates":
        kwargs["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    if job.get("delegate"):
        spec = job["delegate"]
        kwargs["experimental_delegates"] = [module.load_delegate(spec["path"], spec.get("options") or {})]
    interpreter = module.Interpreter(model_path=job["model"], num_threads=1, **kwargs)
    interpreter.allocate_tensors()
    with np.load(job["inputs"]) as data:
        for i, detail in enumerate(interpreter.get_input_details()):
            interpreter.set_tensor(detail["index"], data[f"arg{i}"])
    started = time.perf_counter()
    interpreter.invoke()
    seconds = time.perf_counter() - started
    outputs = {f"out{i}": interpreter.get_tensor(d["index"]) for i, d in enumerate(interpreter.get_output_details())}
    np.savez(job["out"], **outputs)
    return {"ok": True, "invoke_seconds": round(seconds, 4)}


def _captured(fn, *args) -> tuple[dict, str]:
    """fn(*args) with file descriptor 2 redirected to a temporary file; returns (result, stderr text)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            try:
                result = fn(*args)
            except Exception as exc:  # reported per job, the batch goes on
                result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return result, tmp.read().decode(errors="replace")


def run_batch(spec: dict) -> dict:
    module, _ = _runtime(spec["runtime"])
    results = {}
    for job in spec["jobs"]:
        # On the real stderr, so that a crash of the whole process shows which job it was in.
        print(f"runner: {job['name']}", file=sys.stderr, flush=True)
        result, log = _captured(run_job, module, job)
        result["log"] = log
        results[job["name"]] = result
    return {"env": environment(spec["runtime"]), "results": results}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as fh:
        spec = json.load(fh)
    print(json.dumps(run_batch(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
