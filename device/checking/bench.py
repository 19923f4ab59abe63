"""`edgelift.bench`: latency of one .tflite on one or more delegates, measured side by side.

Several delegates in one call are loaded into one process and run interleaved (one invocation of each in
turn), so that frequency scaling, thermal state and background load hit them alike; ratios are to the first.

    result = edgelift.bench("model.tflite", delegates="xnnpack,builtin", runs=200)
    print(result.format())
    result.as_dict()   # schema "edgelift.bench/1"

Never imports TensorFlow (runs on the Pi).
"""

from __future__ import annotations

import os
import platform
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import DataError, DelegateError, InvalidArgumentError
from ..bench_options import BenchOptions, parse_delegates  # noqa: F401 (parse_delegates: re-exported)
from ..runtime import Runner, get_runtime, load_interpreter, quantize, random_like

SCHEMA = "edgelift.bench/1"
PER_OP_NOTE = ("per-op timing: not available — the TFLite Python interpreters (ai-edge-litert, tflite-runtime) "
               "do not expose the runtime's op profiler")


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if platform.system() != "Darwin" else kb / (1024.0 * 1024.0)


def _current_rss_mb() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024.0 * 1024.0)
    except (OSError, ValueError, IndexError):
        return None


def latency_stats(samples_s: list[float] | np.ndarray) -> dict[str, float]:
    """Milliseconds: p50/p90/p99/min/max/mean/std (percentiles interpolate linearly, like numpy)."""
    a = np.asarray(samples_s, dtype=np.float64) * 1e3
    if a.size == 0:
        return {k: float("nan") for k in ("p50", "p90", "p99", "min", "max", "mean", "std")}
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "min": float(a.min()), "max": float(a.max()),
            "mean": float(a.mean()), "std": float(a.std())}


@dataclass
class BenchConfig:
    delegate: str
    runner: Runner = field(repr=False)
    load_ms: float = 0.0
    first_ms: float = 0.0
    rss_delta_mb: float | None = None
    peak_rss_mb: float = 0.0
    samples_s: list[float] = field(default_factory=list)
    per_op: dict[str, Any] | None = None

    @property
    def batch(self) -> int:
        shape = self.runner.input_details[0]["shape"]
        return int(shape[0]) if len(shape) else 1

    def as_dict(self, first: BenchConfig | None) -> dict[str, Any]:
        lat = latency_stats(self.samples_s)
        total = float(np.sum(self.samples_s))
        ratio = None
        if first is not None:
            base = latency_stats(first.samples_s)
            ratio = {k: (lat[k] / base[k] if base[k] > 0 else None) for k in ("p50", "mean")}
        return {
            "delegate": self.delegate,
            "partition": self.runner.partition,
            "partition_detail": self.runner.partition_info.as_dict(),
            "load_ms": self.load_ms,
            "first_inference_ms": self.first_ms,
            "latency_ms": lat,
            "throughput_per_s": (len(self.samples_s) * self.batch / total) if total > 0 else None,
            "batch": self.batch,
            "runs": len(self.samples_s),
            "peak_rss_mb": self.peak_rss_mb,
            "rss_load_delta_mb": self.rss_delta_mb,
            "ratio_to_first": ratio,
            "per_op": self.per_op["ops"] if self.per_op else None,
            "samples_ms": [s * 1e3 for s in self.samples_s],
        }


@dataclass
class BenchResult:
    model: str
    model_size: int
    runtime: str
    threads: int
    warmup: int
    mode: dict[str, Any]
    inputs: str
    configs: list[BenchConfig]
    wall_s: float
    # delegates of a multi-delegate bench that could not load the model: {"delegate", "error", "hint"}
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        first = self.configs[0] if self.configs else None
        return {
            "schema": SCHEMA,
            "model": self.model,
            "model_size_bytes": self.model_size,
            "runtime": self.runtime,
            "host": {"machine": platform.machine(), "system": platform.system(), "python": platform.python_version(),
                     "cpus": os.cpu_count()},
            "threads": self.threads,
            "warmup": self.warmup,
            "mode": self.mode,
            "inputs": self.inputs,
            "interleaved": len(self.configs) > 1,
            "wall_s": self.wall_s,
            "per_op": any(c.per_op and c.per_op["ops"] is not None for c in self.configs),
            "per_op_note": next((c.per_op["note"] for c in self.configs if c.per_op), PER_OP_NOTE),
            "configs": [c.as_dict(first) for c in self.configs],
            "failed": self.failed,
        }

    def format(self) -> str:
        d = self.as_dict()
        lines = [
            f"model    {self.model} ({self.model_size / 1024:.1f} KiB)",
            f"runtime  {self.runtime}, threads {self.threads}, warmup {self.warmup}, "
            + (f"{self.mode['runs']} runs" if "runs" in self.mode else f"{self.mode['seconds']} s")
            + (" each, interleaved" if len(self.configs) > 1 else "") + f", inputs: {self.inputs}",
        ]
        for c in d["configs"]:
            lines.append(f"{c['delegate']:<10} {c['partition']}")
        head = (f"{'delegate':<10} {'load ms':>8} {'first ms':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
                f"{'min ms':>8} {'max ms':>8} {'mean ms':>8} {'std ms':>7} {'inf/s':>9} {'RSS MB':>7} "
                f"{'runs':>5} {'x first':>8}")
        lines += ["", head, "-" * len(head)]
        for c in d["configs"]:
            lat = c["latency_ms"]
            ratio = c["ratio_to_first"]["p50"] if c["ratio_to_first"] else None
            tp = c["throughput_per_s"]
            lines.append(
                f"{c['delegate'][:10]:<10} {c['load_ms']:>8.2f} {c['first_inference_ms']:>9.3f} {lat['p50']:>8.3f} "
                f"{lat['p90']:>8.3f} {lat['p99']:>8.3f} {lat['min']:>8.3f} {lat['max']:>8.3f} {lat['mean']:>8.3f} "
                f"{lat['std']:>7.3f} {tp if tp is not None else float('nan'):>9.1f} {c['peak_rss_mb']:>7.1f} "
                f"{c['runs']:>5} {ratio if ratio is not None else float('nan'):>8.2f}"
            )
        for f in self.failed:
            lines.append(f"{f['delegate']:<10} FAILED: {f['error']}" + (f" — {f['hint']}" if f["hint"] else ""))
        lines += ["", "x first = p50 latency / p50 of the first delegate; RSS = process peak after loading it"]
        lines += self._format_per_op(d)
        return "\n".join(lines)

    def _format_per_op(self, d: dict[str, Any], top: int = 15) -> list[str]:
        measured = [c for c in d["configs"] if c["per_op"]]
        if not measured:
            return [d["per_op_note"] + " (bench --per-op measures each op in isolation)"]
        base = measured[0]["per_op"]
        order = sorted(range(len(base)), key=lambda i: -(base[i]["median_us"] or 0.0))[:top]
        head = f"{'node':>5} {'op':<20}" + "".join(f" {c['delegate'][:10]:>10} us {'share':>6}" for c in measured)
        out = ["", f"per-op timing, slowest {len(order)} of {len(base)} ops on {measured[0]['delegate']} "
                   "(median of isolated runs):", head]
        for i in order:
            row = f"{base[i]['node']:>5} {base[i]['op'][:20]:<20}"
            for c in measured:
                r = c["per_op"][i]
                us = "-" if r["median_us"] is None else f"{r['median_us']:.1f}"
                share = "-" if r["share"] is None else f"{100 * r['share']:.1f}%"
                row += f" {us:>13} {share:>6}"
            out.append(row)
        sums = "  ".join(f"{c['delegate']} {sum(r['median_us'] or 0 for r in c['per_op']):.1f} us" for c in measured)
        out += [f"sum of isolated ops: {sums}", d["per_op_note"]]
        return out


def _inputs_from(source, runner: Runner) -> tuple[list[np.ndarray], str]:
    """Inputs for one invocation: random (None), arrays, or a data file/folder (first sample(s))."""
    details = runner.input_details
    if source is None:
        return random_like(details, seed=0), "random"
    label = "arrays"
    if isinstance(source, (str, os.PathLike)):
        from ...data import load_data

        ds = load_data(source)
        arrays, label = [ds.x], str(source)
    elif isinstance(source, np.ndarray):
        arrays = [source]
    else:
        arrays = [np.asarray(a) for a in source]
    if len(arrays) != len(details):
        raise DataError(f"the model has {len(details)} inputs; {len(arrays)} given in {label}",
                        hint="a data file feeds single-input models; pass one array per input from Python")
    out = []
    for x, d in zip(arrays, details, strict=True):
        shape = tuple(int(s) for s in d["shape"])
        per = shape[1:]
        if x.ndim == len(per):
            x = x[None]
        if tuple(x.shape[1:]) != per:
            raise DataError(
                f"input {d['name']!r}: samples in {label} have shape {tuple(x.shape[1:])}; the model expects {per}",
                hint="reshape the data, or leave --input out to use random inputs")
        b = shape[0] if shape else 1
        if x.shape[0] < b:
            raise DataError(f"{label} has {x.shape[0]} samples; the model's batch is {b}",
                            hint=f"pass at least {b} samples")
        x = x[:b]
        if np.dtype(x.dtype) != np.dtype(d["dtype"]):
            x = quantize(x.astype(np.float32), d)
        out.append(x)
    return out, label


# -- per-op timing ------------------------------------------------------------------------------------
PER_OP_METHOD = ("isolated: each op rebuilt as a one-op model (its constants included), fed the values it sees in "
                 "a full run of the same inputs, timed on the same delegate; the sum differs from the whole model by "
                 "per-invoke overhead and by what a delegate does across ops (partitions, threads, caches)")


def _single_op_model(schema, model_t, op_index: int) -> tuple[bytes, list[int]] | None:
    """The op at `op_index` of subgraph 0 as a model of its own, with the original indices of its inputs (in
    the new model's input order); None when it cannot stand alone."""
    import copy

    import flatbuffers

    sg = model_t.subgraphs[0]
    op = sg.operators[op_index]
    if op.intermediates is not None and len(op.intermediates):
        return None
    opts = op.builtinOptions
    if opts is not None and any(k.endswith("SubgraphIndex") for k in vars(opts)):
        return None  # control flow (WHILE, IF, CALL_ONCE) needs its other subgraphs
    used = list(dict.fromkeys(int(t) for t in [*op.inputs, *op.outputs] if int(t) >= 0))
    remap = {t: i for i, t in enumerate(used)}
    buffers = [schema.BufferT()]
    tensors, inputs, originals = [], [], []
    for t in used:
        tt = copy.copy(sg.tensors[t])
        if tt.isVariable:
            return None
        data = model_t.buffers[tt.buffer].data if 0 < tt.buffer < len(model_t.buffers) else None
        if data is not None and len(data) > 0:
            buffers.append(model_t.buffers[tt.buffer])
            tt.buffer = len(buffers) - 1
        else:
            tt.buffer = 0
            if t in op.inputs:
                inputs.append(remap[t])
                originals.append(t)
        tensors.append(tt)
    new_op = copy.copy(op)
    new_op.inputs = [remap[int(t)] if int(t) >= 0 else -1 for t in op.inputs]
    new_op.outputs = [remap[int(t)] for t in op.outputs]
    sub = schema.SubGraphT()
    sub.tensors, sub.operators, sub.inputs = tensors, [new_op], inputs
    sub.outputs = [remap[int(t)] for t in op.outputs]
    sub.name = "edgelift-per-op"
    m = schema.ModelT()
    m.version, m.operatorCodes, m.subgraphs, m.buffers = model_t.version, model_t.operatorCodes, [sub], buffers
    m.description = "edgelift per-op timing"
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output()), originals


def per_op_timing(model, delegate: str = "builtin", threads: int = 1, runs: int = 30, feed=None,
                  delegate_options: dict[str, Any] | None = None, runtime: str | None = None) -> dict[str, Any]:
    """Median time of every op of `model`, each isolated as a one-op model (see PER_OP_METHOD).

    Needs the flatbuffer schema module that ai-edge-litert ships (desktop); returns {"ops": None, "note": ...}
    where it is missing.
    """
    from ..runtime import model_bytes

    content = model_bytes(model)[0]
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        return {"ops": None, "note": "per-op timing needs ai-edge-litert's flatbuffer schema (desktop only)"}
    model_t = schema.ModelT.InitFromPackedBuf(content, 0)
    full = load_interpreter(content, "builtin", 1, None, runtime, preserve_all_tensors=True)
    full.run(feed if feed is not None else random_like(full.input_details, seed=0))
    ops = [o for o in full.interpreter._get_ops_details() if o["op_name"] != "DELEGATE"]
    rows = []
    clock = time.perf_counter
    for o in ops:
        row: dict[str, Any] = {"node": int(o["index"]), "op": o["op_name"], "median_us": None, "note": None}
        rows.append(row)
        try:
            built = _single_op_model(schema, model_t, int(o["index"]))
            if built is None:
                row["note"] = "cannot be isolated (control flow, variables or intermediates)"
                continue
            sub, originals = built
            r = load_interpreter(sub, delegate, threads, delegate_options, runtime)
            values = [full.tensor(t) for t in originals]
            r.set_inputs(values)
            for _ in range(3):
                r.invoke()
            times = []
            for _ in range(runs):
                t0 = clock()
                r.invoke()
                times.append(clock() - t0)
            row["median_us"] = float(np.median(times) * 1e6)
            row["delegated"] = r.partition_info.delegated_nodes == [0]
            r.close()
        except Exception as exc:  # noqa: BLE001 - one op that cannot be isolated must not stop the others
            row["note"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    total = sum(r["median_us"] for r in rows if r["median_us"] is not None)
    for r in rows:
        r["share"] = (r["median_us"] / total) if r["median_us"] is not None and total > 0 else None
    return {"ops": rows, "sum_us": total, "note": PER_OP_METHOD}


def bench(model: str | os.PathLike | bytes, inputs=None, options: BenchOptions | None = None, **settings):
    """Benchmark `model` on each delegate (interleaved). `runs` or `seconds` (default: 50 runs each).

    Settings are a `BenchOptions` or its fields as keywords (delegates, threads, runs, seconds, warmup,
    delegate_options, runtime, report, per_op, emulate); every value is checked before any work.
    inputs: None (random of the right dtype/shape), an array / list of arrays, or a data path (.npz/.npy/folder).
    delegate_options apply to every non-builtin delegate that takes options ('neon' and library paths).
    report: write a self-contained HTML page there too.
    per_op: also time every op in isolation on each delegate (see PER_OP_METHOD); desktop only.
    warmup: untimed invocations first (default 5; 1 with emulate).
    emulate: 'rpi4' or 'rpi5' counts instructions and estimates cycles on that board instead of timing here
    (edgelift.device.emulate; returns an EmulatedBench). runtime is then the Pi's: tflite-runtime (default) or
    ai-edge-litert; runs default to 1 (counts are exact).
    """
    if options is None:
        options = BenchOptions(**settings)
    elif settings:
        raise InvalidArgumentError(f"give options or keywords, not both (keywords {sorted(settings)})",
                                   hint="set them on the BenchOptions instead")
    elif not isinstance(options, BenchOptions) or options.on_device:
        raise InvalidArgumentError(f"options must be a BenchOptions for here or emulate, got {options!r}",
                                   hint="bench on a device with edgelift.device.remote.api.bench_remote")
    options.check_inputs(model, inputs)
    if options.emulate is not None:
        return _emulated(model, inputs, options)
    return _bench_here(model, inputs, options)


def _bench_here(model, inputs, opts: BenchOptions):
    names, threads, runs, seconds, warmup = opts.delegates, opts.threads, opts.runs, opts.seconds, opts.warmup
    runtime, report, per_op = opts.runtime, opts.report, opts.per_op
    rt = get_runtime(runtime)
    start_all = time.perf_counter()

    configs: list[BenchConfig] = []
    failed: list[dict[str, Any]] = []  # a delegate that cannot load the model is reported; the others still run
    label = "random"
    for name in names:
        before = _current_rss_mb()
        try:
            runner = load_interpreter(model, name, threads, opts.for_delegate(name), runtime)
        except DelegateError as exc:
            if len(names) == 1:
                raise
            failed.append({"delegate": name, "error": exc.message, "hint": exc.hint, "exc": exc})
            continue
        feed, label = _inputs_from(inputs, runner)
        runner.set_inputs(feed)
        t0 = time.perf_counter()
        runner.invoke()
        first = time.perf_counter() - t0
        after = _current_rss_mb()
        configs.append(BenchConfig(
            name, runner, load_ms=runner.load_seconds * 1e3, first_ms=first * 1e3,
            rss_delta_mb=(after - before) if before is not None and after is not None else None,
            peak_rss_mb=_peak_rss_mb(),
        ))
    if not configs:
        first_failure = failed[0]["exc"]
        raise DelegateError(f"none of the {len(names)} delegates could load the model: "
                            + "; ".join(f"{f['delegate']}: {f['error']}" for f in failed),
                            hint=first_failure.hint)
    failed = [{k: v for k, v in f.items() if k != "exc"} for f in failed]
    for c in configs:
        for _ in range(warmup):
            c.runner.invoke()

    clock = time.perf_counter
    if runs is not None:
        for _ in range(runs):
            for c in configs:
                t0 = clock()
                c.runner.invoke()
                c.samples_s.append(clock() - t0)
    else:
        deadline = clock() + float(seconds)
        while True:
            for c in configs:
                t0 = clock()
                c.runner.invoke()
                c.samples_s.append(clock() - t0)
            if clock() >= deadline:
                break

    if per_op:
        op_runs = min(runs or 30, 50)
        for c in configs:
            feed, _ = _inputs_from(inputs, c.runner)
            c.per_op = per_op_timing(model, c.delegate, threads, op_runs, feed, opts.for_delegate(c.delegate),
                                     runtime)

    path = None if isinstance(model, (bytes, bytearray, memoryview)) else str(model)
    result = BenchResult(
        model=path or "<bytes>",
        model_size=configs[0].runner.model_size,
        runtime=str(rt),
        threads=threads,
        warmup=warmup,
        mode={"runs": runs} if runs is not None else {"seconds": float(seconds)},
        inputs=label,
        configs=configs,
        wall_s=time.perf_counter() - start_all,
        failed=failed,
    )
    if report is not None:
        from .report_html import bench_report

        bench_report(result, report, model_source=model)
    return result


def _emulated(model, inputs, opts: BenchOptions):
    """bench(emulate=board): the Pi cost meter (what it cannot honour was refused by BenchOptions)."""
    from ..emulate.meter import emulate_bench

    result = emulate_bench(model, board=opts.emulate, delegates=opts.delegates and ",".join(opts.delegates),
                           runtime=opts.runtime, runs=opts.runs, warmup=opts.warmup,
                           delegate_options=opts.delegate_options)
    if opts.report is not None:
        from ..emulate.report import emulate_report

        emulate_report(result, opts.report)
    return result
