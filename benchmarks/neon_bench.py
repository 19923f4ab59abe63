"""NEON delegate vs LiteRT's builtin kernels vs XNNPACK on x86-64, one thread, interleaved runs, medians.

    .venv/bin/python benchmarks/neon_bench.py [--runs 20] [--models mobilenet_v2,digits] [--compare OLD.so]

--compare adds a fourth configuration, the delegate built from another checkout (e.g. before a change), to
the same interleaved runs: the fair before/after on a machine whose load drifts.

Every run of every configuration is interleaved (A B C A B C ...) in one process so that frequency and cache
drift hit all three alike. Before timing, each configuration's output is compared with the builtin one
(the delegate must be identical; XNNPACK is reported with its number of differing values).
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


def _models(names: list[str]) -> dict[str, bytes]:
    from tests import modelkit

    out = {}
    for name in names:
        if name == "mobilenet_v2":
            out["MobileNetV2 int8 224 a1.0"] = modelkit.cached("int8", modelkit.mobilenet_v2)
        elif name == "digits":
            out["digits CNN int8"] = modelkit.digits_int8()
        elif name == "small_resnet":
            out["small ResNet int8"] = modelkit.cached("int8", modelkit.small_resnet)
        else:
            raise SystemExit(f"unknown model {name!r}; allowed: mobilenet_v2, digits, small_resnet")
    return out


def _interpreters(model: bytes, library: str, kernels: str, threads: int, compare: str | None = None):
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
        old = load_delegate(compare, {"num_threads": str(threads), "kernels": kernels, "log_level": "warning"})
        its["compare"] = Interpreter(model_content=model, experimental_delegates=[old],
                                     experimental_op_resolver_type=plain, num_threads=threads)
    for it in its.values():
        it.allocate_tensors()
    return its


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--models", default="mobilenet_v2,digits")
    ap.add_argument("--kernels", default="auto")
    ap.add_argument("--threads", type=int, default=1, help="threads for all three (default 1)")
    ap.add_argument("--compare", help="another build of the delegate library, timed in the same runs")
    args = ap.parse_args(argv)
    from edgelift.delegates import neon

    library = str(neon.library_path())
    print(f"delegate: {library}\nruns: {args.runs} interleaved, {args.threads} thread(s), medians")
    for label, model in _models(args.models.split(",")).items():
        its = _interpreters(model, library, args.kernels, args.threads, args.compare)
        d = its["builtin"].get_input_details()[0]
        x = np.random.default_rng(0).integers(-128, 128, d["shape"], dtype=np.int8)
        outs = {}
        for name, it in its.items():
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()  # warm-up
            outs[name] = it.get_tensor(it.get_output_details()[0]["index"]).copy()
        ndiff = {k: int((v != outs["builtin"]).sum()) for k, v in outs.items()}
        for name in ("neon", "compare"):
            if ndiff.get(name):
                raise SystemExit(f"{label}: the delegate ({name}) differs from builtin at {ndiff[name]} values")
        times = {k: [] for k in its}
        for _ in range(args.runs):
            for name, it in its.items():
                t0 = time.perf_counter()
                it.invoke()
                times[name].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        print(f"\n{label}")
        for name in its:
            print(f"  {name:8s} median {med[name]:9.3f} ms   (min {min(times[name]) * 1e3:.3f}; "
                  f"differs from builtin at {ndiff[name]} of {outs[name].size} values)")
        ratios = (med["neon"] / med["builtin"], med["neon"] / med["xnnpack"], med["builtin"] / med["xnnpack"])
        print("  ratio neon/builtin {:.2f}   neon/xnnpack {:.2f}   builtin/xnnpack {:.2f}".format(*ratios))
        if "compare" in med:
            print(f"  ratio neon/compare {med['neon'] / med['compare']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
