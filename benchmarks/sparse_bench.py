"""Block-pruned vs dense, side by side in one run: estimated Pi 4 / Pi 5 cycles, x86 wall time, digits accuracy.

    .venv/bin/python benchmarks/sparse_bench.py [--models digits,mobilenet_v2] [--sparsities 0.5,0.75,0.9]
                                                [--boards rpi4,rpi5] [--no-emulate] [--markdown]
                                                [--seeds 0,1,2] [--float-epochs N] [--epochs N]
                                                [--prune-layers conv2,conv3] [--[no-]distill]
    .venv/bin/python benchmarks/sparse_bench.py --calibrate [--boards rpi4,rpi5,x86]

Per model: the dense int8 model and one block-pruned variant per sparsity, in 16x4 blocks (16 output channels x
4 consecutive input values: the sparse kernels' block, `convert --prune-kind block --target`'s default).
- digits: per seed, the example CNN (examples/digits) trained (--float-epochs), then `edgelift.convert(...,
  prune=S, prune_kind="block", prune_layers=..., distill=..., epochs=..., train_data=...)` (gradual block pruning
  with fine-tuning, int8); accuracy on that seed's held-out digits next to the float model's, and at the end
  int8 minus float paired per seed (median, range). Defaults: the recipe measured best (DIGITS below).
- mobilenet_v2: modelkit's MobileNetV2 1.0 224 (random weights: no accuracy), its 1x1 convs pruned one shot by the
  converter's block mask (tests/neon/sparse_models.py).
Pi columns: `bench --emulate` (edgelift.device.emulate): cycles ESTIMATED by llvm-mca over the exact qemu block
counts of one warm inference (caches, branch misses, threads and thermal left out); instruction counts are exact,
so one run per cell is the figure. For each pruned variant the delegate runs it twice: sparse=auto (the per-layer
rule) and sparse=off (every layer dense: "the same model run dense"), plus XNNPACK (int8) dense.
x86 column: wall time per invoke of the x86-64 delegate, sparse=auto and (pruned variants) sparse=off interleaved
in one process, 30 rounds of 10 invokes: median and p25-p75 (outputs of the two checked identical first).

--calibrate: the cost rule's constants (kernels/qs8_spgemm_registry.c, sparse_rule.py). One 1x1 CONV_2D, 8x8
pixels, 128 output channels, k = 64 and 256 input channels, 16x4-pruned to densities 0.25 and 0.5, estimated
cycles with sparse=always and sparse=off. Sparse cycles are linear in density (a + b d); the break-even density
d*(k) = (dense - a) / b at each k, and the line D - K / k through the two.
With --boards x86: the same fit on x86-64 wall time (sparse=always vs sparse=off interleaved, medians), the
AVX2 sparse variant against the AVX2 dense one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edgelift.errors import EdgeliftError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLOCK = (16, 4)
BLOCK_TEXT = "16x4"
# digits defaults, each measured paired over seeds (README, "Digits CNN" under block-sparse layers): a float model
# trained to convergence (30 epochs left it at 89.5-97.6% held out, 100 at 97.8-99.6%); fc1 left dense (at a 16x4
# density of 0.25 a batch-1 FULLY_CONNECTED runs dense on both boards: pruning it costs accuracy, saves nothing);
# 96 fine-tuning epochs (24 and 48 lost more); distillation from the float model (a little ahead at 96 epochs).
DIGITS = {"float_epochs": 100, "epochs": 96, "prune_layers": ("conv2", "conv3"), "distill": True}


def _digits(sparsities: list[float], folder: Path, seed: int, recipe: dict) -> tuple[dict[str, Path], dict[str, float]]:
    from edgelift import convert
    from examples.digits.digits import train_cnn

    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=recipe["float_epochs"], seed=seed)
    float_acc = float((np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test).mean())
    paths, acc = {}, {"float": float_acc}
    for s in [0.0, *sparsities]:
        label = "dense" if s == 0 else f"{s:.0%} 16x4 blocks"
        out = folder / f"digits-{seed}-{s}.tflite"
        kwargs = dict(prune=s, prune_kind="block", block=BLOCK_TEXT, train_data=(x_train, y_train),
                      epochs=recipe["epochs"], prune_layers=recipe["prune_layers"], distill=recipe["distill"])
        kwargs = kwargs if s else {}
        convert(model, out, calibration=x_train, **kwargs)
        paths[label] = out
        acc[label] = _accuracy(out, x_test, y_test)
    return paths, acc


def _accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    hits = 0
    for xi, yi in zip(x, y, strict=True):
        v = xi[None].astype(np.float32)
        if i["dtype"] == np.int8:
            s, z = i["quantization"]
            v = np.clip(np.round(v / s + z), -128, 127).astype(np.int8)
        it.set_tensor(i["index"], v)
        it.invoke()
        hits += int(np.argmax(it.get_tensor(o["index"])[0]) == yi)
    return hits / len(y)


def _mobilenet(sparsities: list[float], folder: Path) -> dict[str, Path]:
    from tests import modelkit
    from tests.neon import sparse_models

    paths = {"dense": folder / "mnv2-dense.tflite"}
    paths["dense"].write_bytes(modelkit.cached("int8", modelkit.mobilenet_v2))
    for s in sparsities:
        p = folder / f"mnv2-{s}.tflite"
        p.write_bytes(sparse_models.tflite("mobilenet_v2", s, BLOCK, only_1x1=True))
        paths[f"{s:.0%} 16x4 blocks (1x1 convs)"] = p
    return paths


def _gemm(row) -> float:
    """Estimated cycles in the GEMM microkernel functions (dense or sparse) of one metered run."""
    return sum(s.cycles for s in row.by_kernel if s.name.startswith(("qs8_gemm_", "qs8_spgemm_")))


def _calibrate(board: str) -> None:
    """--calibrate on one board: each pruned 1x1 conv's cost sparse=always and sparse=off (estimated cycles on a Pi,
    wall time on x86-64), the sparse cost's line in density, the break-even density per k and the line D - K / k."""
    from functools import partial

    from tests.neon import sparse_models

    measure, unit, scale = (_x86_cost, "us", 1.0) if board == "x86" else (partial(_pi_cost, board), "K", 1e3)
    folder = Path(tempfile.mkdtemp(prefix="sparse-calibrate-"))
    line = {}
    for k in (64, 256):
        cost = {}
        for d in (0.25, 0.5):
            p = folder / f"pw-{k}-{d}.tflite"
            p.write_bytes(sparse_models.tflite("pointwise", 1 - d, BLOCK, shape=(8, 8, k), filters=128))
            cost[d], dense = measure(p, f"{board} k={k} density {d}")
        b = (cost[0.5] - cost[0.25]) / 0.25
        a = cost[0.25] - 0.25 * b
        line[k] = (dense - a) / b
        print(f"{board} k={k}: sparse = {a / scale:.1f} {unit} + {b / scale:.1f} {unit} x density; break-even density "
              f"{line[k]:.3f}", flush=True)
    big_k = (line[256] - line[64]) / (1 / 64 - 1 / 256)
    print(f"{board}: break-even line D - K / k with D = {line[256] + big_k / 256:.3f}, K = {big_k:.2f}", flush=True)


def _pi_cost(board: str, path: Path, label: str) -> tuple[float, float]:
    """Estimated cycles of one inference sparse=always and sparse=off (printed with the GEMM kernels' alone)."""
    from edgelift.device.emulate.meter import emulate_bench

    sp = emulate_bench(str(path), board, ["neon"], delegate_options={"sparse": "always"}).rows[0]
    de = emulate_bench(str(path), board, ["neon"], delegate_options={"sparse": "off"}).rows[0]
    print(f"{label}: sparse {sp.cycles / 1e3:.1f} K cycles est., dense {de.cycles / 1e3:.1f} K, "
          f"{sp.cycles / de.cycles:.3f}x; GEMM kernel alone {_gemm(sp) / 1e3:.1f} K vs {_gemm(de) / 1e3:.1f} K, "
          f"{_gemm(de) / _gemm(sp):.2f}x faster", flush=True)
    return sp.cycles, de.cycles


def _x86_cost(path: Path, label: str) -> tuple[float, float]:
    """x86-64 wall time per invoke (us), sparse=always vs sparse=off interleaved, medians of 40 rounds: the AVX2
    sparse variant against the AVX2 dense one (no meter there)."""
    from edgelift.device.runtime import load_interpreter, random_like

    its = {m: load_interpreter(path.read_bytes(), "neon", delegate_options={"sparse": m}) for m in ("always", "off")}
    feed = random_like(its["off"].input_details, seed=0)
    times: dict[str, list[float]] = {m: [] for m in its}
    for _ in range(40):
        for m, it in its.items():
            t0 = time.perf_counter()
            for _ in range(20):
                it.run(feed)
            times[m].append((time.perf_counter() - t0) / 20 * 1e6)
    sparse, dense = float(np.median(times["always"])), float(np.median(times["off"]))
    print(f"{label}: sparse {sparse:.1f} us, dense {dense:.1f} us, {sparse / dense:.3f}x", flush=True)
    return sparse, dense


def _x86_wall(path: Path, pruned: bool, rounds: int = 30, invokes: int = 10) -> dict[str, tuple[float, float, float]]:
    """x86-64 delegate wall time per invoke (ms: median, p25, p75), sparse=auto and (pruned) sparse=off interleaved
    round by round in one process, so load changes on a shared machine hit both alike; outputs checked identical."""
    from edgelift.device.runtime import load_interpreter, random_like

    modes = ["auto", "off"] if pruned else ["auto"]
    its = {m: load_interpreter(path.read_bytes(), "neon", delegate_options={"sparse": m}) for m in modes}
    feed = random_like(its["auto"].input_details, seed=0)
    outs = [it.run(feed) for it in its.values()]
    if any(not np.array_equal(a, b) for o in outs[1:] for a, b in zip(outs[0], o, strict=True)):
        raise SystemExit(f"{path.name}: sparse=auto and sparse=off outputs differ (they must be identical)")
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(rounds):
        for m, it in its.items():
            t0 = time.perf_counter()
            for _ in range(invokes):
                it.run(feed)
            times[m].append((time.perf_counter() - t0) / invokes * 1e3)
    out = {}
    for m, t in times.items():
        q1, med, q3 = np.percentile(t, [25, 50, 75])
        out[m] = (float(med), float(q1), float(q3))
    return out


def _pi(path: Path, board: str, pruned: bool) -> dict[str, float]:
    from edgelift.device.emulate.meter import emulate_bench

    out = {}
    r = emulate_bench(str(path), board, ["neon", "xnnpack"])
    for row in r.rows:
        out[row.delegate] = row.cycles
    if pruned:
        off = emulate_bench(str(path), board, ["neon"], delegate_options={"sparse": "off"})
        out["neon dense"] = off.rows[0].cycles
    else:
        out["neon dense"] = out.get("neon", float("nan"))
    return out


def _check_args(args) -> None:
    """Refuse bad flags in one line before any training."""
    for flag, v in (("--epochs", args.epochs), ("--float-epochs", args.float_epochs)):
        if v < 1:
            raise SystemExit(f"{flag} {v}: give at least 1 epoch (defaults: the measured recipe, see --help)")
    for s in args.sparsities.split(","):
        try:
            ok = 0.0 < float(s) < 1.0
        except ValueError:
            ok = False
        if s and not ok:
            raise SystemExit(f"--sparsities {s!r}: give fractions of pruned 16x4 blocks in (0, 1), e.g. 0.5,0.75")
    for b in args.boards.split(","):
        allowed = ("rpi4", "rpi5", "x86") if args.calibrate else ("rpi4", "rpi5")
        if b and b not in allowed:
            raise SystemExit(f"--boards {b!r}: allowed {', '.join(allowed)}"
                             f"{' (x86 with --calibrate; the bench always times x86)' if b == 'x86' else ''}")
    models = args.models.split(",")
    for m in models:
        if m not in ("digits", "mobilenet_v2"):
            raise SystemExit(f"--models {m!r}: allowed digits, mobilenet_v2")
    if "digits" in models:  # before the float model's training, not after it
        from examples.digits.digits import build_cnn

        names = [layer.name for layer in build_cnn().layers if layer.get_weights()]
        for n in args.prune_layers.split(","):
            if n not in names:
                raise SystemExit(f"--prune-layers {n!r}: the digits CNN's layers are {', '.join(names)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="digits,mobilenet_v2")
    ap.add_argument("--sparsities", default="0.5,0.75,0.9")
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--no-emulate", action="store_true", help="x86 wall time and accuracy only")
    ap.add_argument("--seeds", default="0", help="digits: train and prune once per seed (Pi columns: the first)")
    ap.add_argument("--float-epochs", type=int, default=DIGITS["float_epochs"],
                    help="digits: epochs of the float model's training (the teacher and the accuracy to match)")
    ap.add_argument("--epochs", type=int, default=DIGITS["epochs"], help="digits: fine-tuning epochs of the pruning")
    ap.add_argument("--prune-layers", default=",".join(DIGITS["prune_layers"]),
                    help="digits: the layers pruned (fc1 runs dense on both boards at 75%%: pruning it only costs)")
    ap.add_argument("--distill", action=argparse.BooleanOptionalAction, default=DIGITS["distill"],
                    help="digits: fine-tune against the float model's soft outputs (convert's distill=True)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--calibrate", action="store_true", help="fit the cost rule's break-even line per board")
    args = ap.parse_args(argv)
    _check_args(args)
    sparsities = [float(s) for s in args.sparsities.split(",") if s]
    boards = [b for b in args.boards.split(",") if b]
    if args.calibrate:
        for board in boards:
            _calibrate(board)
        return 0
    recipe = {"float_epochs": args.float_epochs, "epochs": args.epochs, "distill": args.distill,
              "prune_layers": [n for n in args.prune_layers.split(",") if n]}
    folder = Path(tempfile.mkdtemp(prefix="sparse-bench-"))
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows = []
    runs = [(m, seed) for m in args.models.split(",") for seed in (seeds if m == "digits" else seeds[:1])]
    for model, seed in runs:
        acc: dict[str, float] = {}
        if model == "digits":
            try:
                paths, acc = _digits(sparsities, folder, seed, recipe)
            except EdgeliftError as e:  # e.g. a --prune-layers name the model does not have
                raise SystemExit(f"sparse_bench: {e}") from None
        else:
            paths = _mobilenet(sparsities, folder)
        emulate = not args.no_emulate and seed == seeds[0]
        for label, path in paths.items():
            row = {"model": model if model != "digits" or len(seeds) == 1 else f"digits/{seed}", "variant": label,
                   "accuracy": acc.get(label), "float_accuracy": acc.get("float")}
            row["x86"] = _x86_wall(path, label != "dense")
            for board in boards if emulate else []:
                row[board] = _pi(path, board, label != "dense")
            rows.append(row)
            print(_line(row, boards, not emulate), flush=True)
    if "digits" in args.models.split(","):
        print(_paired(rows, recipe))
    if args.markdown:
        print(_markdown(rows, [] if args.no_emulate else boards))
    return 0


def _paired(rows: list[dict], recipe: dict) -> str:
    """Per pruned variant: int8 minus float accuracy of the same seed's model, median and spread over the seeds."""
    lines = [f"digits recipe: float {recipe['float_epochs']} epochs; pruned {','.join(recipe['prune_layers'])}, "
             f"{recipe['epochs']} fine-tuning epochs, distill {'on' if recipe['distill'] else 'off'}"]
    variants = dict.fromkeys(r["variant"] for r in rows if r["accuracy"] is not None)
    for v in variants:
        d = [100 * (r["accuracy"] - r["float_accuracy"]) for r in rows if r["variant"] == v]
        lines.append(f"digits {v:<22} int8 - float, paired over {len(d)} seeds: median {np.median(d):+.2f} points "
                     f"[{min(d):+.2f}, {max(d):+.2f}] ({', '.join(f'{x:+.2f}' for x in d)})")
    return "\n".join(lines)


def _x86_text(x86: dict) -> str:
    med, q1, q3 = x86["auto"]
    text = f"x86 {med * 1e3:.1f} us (p25-p75 {q1 * 1e3:.1f}-{q3 * 1e3:.1f})"
    if "off" in x86:
        text += f", {med / x86['off'][0]:.2f}x sparse=off ({x86['off'][0] * 1e3:.1f} us)"
    return text


def _line(row: dict, boards: list[str], no_emulate: bool) -> str:
    parts = [f"{row['model']:<13}{row['variant']:<30}{_x86_text(row['x86'])}"]
    if row["accuracy"] is not None:
        parts.append(f"accuracy {row['accuracy']:.1%} (float {row['float_accuracy']:.1%})")
    for b in [] if no_emulate else boards:
        c = row[b]
        parts.append(f"{b}: neon {c['neon'] / 1e6:.3f} M cyc est., {c['neon'] / c['neon dense']:.2f}x delegate dense, "
                     f"{c['neon'] / c['xnnpack']:.2f}x XNNPACK")
    return "; ".join(parts)


def _markdown(rows: list[dict], boards: list[str]) -> str:
    rows = [r for r in rows if all(b in r for b in boards)]
    head = "| model | variant | " + " | ".join(
        f"{b} neon (M cycles, est.) | vs delegate dense | vs XNNPACK" for b in boards) + " | x86 | accuracy |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [r["model"], r["variant"]]
        for b in boards:
            c = r[b]
            cells += [f"{c['neon'] / 1e6:.3f}", f"{c['neon'] / c['neon dense']:.2f}x",
                      f"{c['neon'] / c['xnnpack']:.2f}x"]
        cells.append(_x86_text(r["x86"]))
        cells.append("-" if r["accuracy"] is None else f"{r['accuracy']:.1%} (float {r['float_accuracy']:.1%})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
