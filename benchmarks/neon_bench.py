"""NEON delegate vs LiteRT's builtin kernels vs XNNPACK on x86-64, one thread, interleaved runs, medians.

    .venv/bin/python benchmarks/neon_bench.py [--runs 20] [--models mobilenet_v2,digits] [--compare OLD.so]
                                              [--threads 1,2] [--kernels auto|scalar|avx2]
                                              [--compare-options fuse=dwconv]

--models takes mobilenet_v2, efficientnet_b0, mobilenet_v3_large, resnet50 (the zoo's Keras applications at
224x224, random weights, converted once and cached like benchmarks/pi_cost.py does), digits, small_resnet.
--threads 1,2 times every configuration at each thread count in the same interleaved runs and prints the
delegate's scaling (its 1-thread median over its N-thread median).

--compare adds a fourth configuration, the delegate built from another checkout (e.g. before a change), to
the same interleaved runs: the fair before/after on a machine whose load drifts. --compare-options gives that
configuration its own delegate options (KEY=VALUE,...; with no --compare, on this checkout's library), e.g.
`--compare-options fuse=add` for the residual-ADD fusion's before/after, `fuse=dwconv` for the depthwise -> 1x1
row-band fusion's (the delegate's default is fuse=off).

Every run of every configuration is interleaved (A B C A B C ...) in one process so that frequency and cache
drift hit all three alike; with a compared configuration, the ratio of each run's neon and compare times is
also summarised (median, quartiles): the pair was timed back to back, so load drift mostly cancels. Before
timing, each configuration's output is compared with the builtin one (the delegate must be identical; XNNPACK is
reported with its number of differing values).
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


# the zoo's Keras applications at 224x224 (the same cached files as benchmarks/pi_cost.py)
APPLICATIONS = {"efficientnet_b0": "EfficientNetB0", "mobilenet_v3_large": "MobileNetV3Large", "resnet50": "ResNet50"}
ALLOWED = ("mobilenet_v2", *APPLICATIONS, "digits", "small_resnet")


def _models(names: list[str]) -> dict[str, bytes]:
    unknown = [n for n in names if n not in ALLOWED]
    if unknown:  # before converting anything
        raise SystemExit(f"unknown model {unknown[0]!r}; allowed: {', '.join(ALLOWED)}")
    from tests import modelkit

    out = {}
    for name in names:
        if name == "mobilenet_v2":
            out["MobileNetV2 int8 224 a1.0"] = modelkit.cached("int8", modelkit.mobilenet_v2)
        elif name in APPLICATIONS:
            from tests import zoo

            out[f"{APPLICATIONS[name]} int8 224"] = modelkit.cached("int8", zoo.application, name=APPLICATIONS[name],
                                                                    size=224)
        elif name == "digits":
            out["digits CNN int8"] = modelkit.digits_int8()
        else:
            out["small ResNet int8"] = modelkit.cached("int8", modelkit.small_resnet)
    return out


def _thread_counts(text: str) -> list[int]:
    try:
        counts = [int(t) for t in text.split(",")]
    except ValueError:
        counts = []
    if not counts or any(c < 1 or c > 64 for c in counts) or len(set(counts)) != len(counts):
        raise SystemExit(f"--threads {text!r}: give distinct thread counts from 1 to 64, e.g. 1 or 1,2")
    return counts


def _options(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    pairs = [kv.split("=", 1) for kv in text.split(",")]
    if any(len(p) != 2 or not p[0] for p in pairs):
        raise SystemExit(f"--compare-options {text!r}: give KEY=VALUE pairs separated by commas, e.g. fuse=off")
    return dict(pairs)


def _interpreters(model: bytes, library: str, kernels: str, threads: int, compare: str | None = None,
                  compare_options: dict[str, str] | None = None):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    plain = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    neon = load_delegate(library, {"num_threads": str(threads), "kernels": kernels, "log_level": "warning"})
    its = {
        "neon": Interpreter(model_content=model, experimental_delegates=[neon], experimental_op_resolver_type=plain,
                            num_threads=threads),
        "builtin": Interpreter(model_content=model, experimental_op_resolver_type=plain, num_threads=threads),
        "xnnpack": Interpreter(model_content=model, num_threads=threads),  # default resolver: XNNPACK applied
    }
    if compare:
        old = load_delegate(compare, {"num_threads": str(threads), "kernels": kernels, "log_level": "warning",
                                      **(compare_options or {})})
        its["compare"] = Interpreter(model_content=model, experimental_delegates=[old],
                                     experimental_op_resolver_type=plain, num_threads=threads)
    for it in its.values():
        it.allocate_tensors()
    return its


def _spread(values: list[float]) -> str:
    """'median (p25-p75)' in ms: the quartiles say how much the shared machine moved the runs."""
    ms = [v * 1e3 for v in values]
    q = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
    return f"{statistics.median(ms):9.3f} ms  (p25-p75 {q[0]:.3f}-{q[2]:.3f})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--models", default="mobilenet_v2,digits")
    ap.add_argument("--kernels", default="auto")
    ap.add_argument("--threads", default="1", help="thread counts, e.g. 1 or 1,2 (default 1)")
    ap.add_argument("--compare", help="another build of the delegate library, timed in the same runs")
    ap.add_argument("--compare-options", help="delegate options of the compared configuration, e.g. fuse=on")
    args = ap.parse_args(argv)
    compare_options = _options(args.compare_options)
    if args.runs < 1:
        raise SystemExit(f"--runs {args.runs}: give at least 1 run")
    counts = _thread_counts(args.threads)
    from edgelift.delegates import neon

    library = str(neon.library_path())
    compare = args.compare or (library if compare_options else None)
    print(f"delegate: {library}\nruns: {args.runs} interleaved, threads {args.threads}, kernels={args.kernels}, "
          "medians with quartiles")
    for label, model in _models(args.models.split(",")).items():
        its = {}
        for t in counts:
            for name, it in _interpreters(model, library, args.kernels, t, compare, compare_options).items():
                its[(name, t)] = it
        d = its[("builtin", counts[0])].get_input_details()[0]
        x = np.random.default_rng(0).integers(-128, 128, d["shape"], dtype=np.int8)
        outs = {}
        for key, it in its.items():
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()  # warm-up
            outs[key] = it.get_tensor(it.get_output_details()[0]["index"]).copy()
        want = outs[("builtin", counts[0])]
        ndiff = {key: int((v != want).sum()) for key, v in outs.items()}
        for (name, t), n in ndiff.items():
            if name in ("neon", "compare") and n:
                raise SystemExit(f"{label}: the delegate ({name}, {t} threads) differs from builtin at {n} values")
        times = {key: [] for key in its}
        for _ in range(args.runs):
            for key, it in its.items():
                t0 = time.perf_counter()
                it.invoke()
                times[key].append(time.perf_counter() - t0)
        med = {key: statistics.median(v) * 1e3 for key, v in times.items()}
        print(f"\n{label}")
        for t in counts:
            print(f"  {t} thread(s)")
            for name, tt in its:
                if tt == t:
                    print(f"    {name:8s} {_spread(times[(name, t)])}   "
                          f"differs from builtin at {ndiff[(name, t)]} of {want.size} values")
            r = (med[("neon", t)] / med[("builtin", t)], med[("neon", t)] / med[("xnnpack", t)],
                 med[("builtin", t)] / med[("xnnpack", t)])
            print("    ratio neon/builtin {:.2f}   neon/xnnpack {:.2f}   builtin/xnnpack {:.2f}".format(*r))
            if ("compare", t) in med:
                # each run's pair was timed back to back: their ratio cancels the drift both saw
                paired = [a / b for a, b in zip(times[("neon", t)], times[("compare", t)], strict=True)]
                q = statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3
                print(f"    ratio neon/compare {med[('neon', t)] / med[('compare', t)]:.2f}   paired per run "
                      f"{statistics.median(paired):.3f} (p25-p75 {q[0]:.3f}-{q[2]:.3f})")
        for t in counts[1:]:
            scaling = {name: med[(name, counts[0])] / med[(name, t)] for name, tt in its if tt == t}
            print(f"  scaling {counts[0]} -> {t} threads (median time at {counts[0]} / at {t}): "
                  + "   ".join(f"{name} {v:.2f}x" for name, v in scaling.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
