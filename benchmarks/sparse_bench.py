"""Block-pruned vs dense, side by side in one run: estimated Pi 4 / Pi 5 cycles, x86 wall time, digits accuracy.

    .venv/bin/python benchmarks/sparse_bench.py [--models digits,mobilenet_v2] [--sparsities 0.5,0.75,0.9]
                                                [--boards rpi4,rpi5] [--no-emulate] [--markdown]
    .venv/bin/python benchmarks/sparse_bench.py --calibrate [--boards rpi4,rpi5]

Per model: the dense int8 model and one block-pruned variant per sparsity, in 16x4 blocks (16 output channels x
4 consecutive input values: the sparse kernels' block, `convert --prune-kind block --target`'s default).
- digits: the example CNN (examples/digits) trained, then `edgelift.convert(..., prune=S, prune_kind="block",
  train_data=...)` (gradual block pruning with fine-tuning, int8); accuracy on the held-out digits, next to the
  float model's.
- mobilenet_v2: modelkit's MobileNetV2 1.0 224 (random weights: no accuracy), its 1x1 convs pruned one shot by the
  converter's block mask (tests/neon/sparse_models.py).
Pi columns: `bench --emulate` (edgelift.device.emulate): cycles ESTIMATED by llvm-mca over the exact qemu block
counts of one warm inference (caches, branch misses, threads and thermal left out); instruction counts are exact,
so one run per cell is the figure. For each pruned variant the delegate runs it twice: sparse=auto (the per-layer
rule) and sparse=off (every layer dense: "the same model run dense"), plus XNNPACK (int8) dense.
x86 column: wall time of the x86-64 delegate (sparse=auto), median and interquartile range of 30 invokes.

--calibrate: the cost rule's constants (kernels/qs8_spgemm_registry.c, sparse_rule.py). One 1x1 CONV_2D, 8x8
pixels, 128 output channels, k = 64 and 256 input channels, 16x4-pruned to densities 0.25 and 0.5, estimated
cycles with sparse=always and sparse=off. Sparse cycles are linear in density (a + b d); the break-even density
d*(k) = (dense - a) / b at each k, and the line D - K / k through the two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BLOCK = (16, 4)
BLOCK_TEXT = "16x4"


def _digits(sparsities: list[float], folder: Path, seed: int = 0,
            epochs: int = 8) -> tuple[dict[str, Path], dict[str, float]]:
    from edgelift import convert
    from examples.digits.digits import train_cnn

    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=30, seed=seed)
    float_acc = float((np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test).mean())
    paths, acc = {}, {"float": float_acc}
    for s in [0.0, *sparsities]:
        label = "dense" if s == 0 else f"{s:.0%} 16x4 blocks"
        out = folder / f"digits-{seed}-{s}.tflite"
        kwargs = dict(prune=s, prune_kind="block", block=BLOCK_TEXT, train_data=(x_train, y_train), epochs=epochs)
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
    from edgelift.device.emulate.meter import emulate_bench
    from tests.neon import sparse_models

    folder = Path(tempfile.mkdtemp(prefix="sparse-calibrate-"))
    line = {}
    for k in (64, 256):
        cyc = {}
        for d in (0.25, 0.5):
            p = folder / f"pw-{k}-{d}.tflite"
            p.write_bytes(sparse_models.tflite("pointwise", 1 - d, BLOCK, shape=(8, 8, k), filters=128))
            sp = emulate_bench(str(p), board, ["neon"], delegate_options={"sparse": "always"}).rows[0]
            de = emulate_bench(str(p), board, ["neon"], delegate_options={"sparse": "off"}).rows[0]
            cyc[d], dense = sp.cycles, de.cycles
            print(f"{board} k={k} density {d}: sparse {cyc[d] / 1e3:.1f} K cycles est., dense {dense / 1e3:.1f} K, "
                  f"{cyc[d] / dense:.3f}x; GEMM kernel alone {_gemm(sp) / 1e3:.1f} K vs {_gemm(de) / 1e3:.1f} K, "
                  f"{_gemm(de) / _gemm(sp):.2f}x faster", flush=True)
        b = (cyc[0.5] - cyc[0.25]) / 0.25
        a = cyc[0.25] - 0.25 * b
        line[k] = (dense - a) / b
        print(f"{board} k={k}: sparse = {a / 1e3:.1f} K + {b / 1e3:.1f} K x density; break-even density "
              f"{line[k]:.3f}", flush=True)
    big_k = (line[256] - line[64]) / (1 / 64 - 1 / 256)
    print(f"{board}: break-even line D - K / k with D = {line[256] + big_k / 256:.3f}, K = {big_k:.2f}", flush=True)


def _x86_wall(path: Path) -> tuple[float, float]:
    from edgelift.delegates import neon
    from edgelift.device.runtime import load_interpreter, random_like

    it = load_interpreter(path.read_bytes(), "neon")
    feed = random_like(it.input_details, seed=0)
    it.run(feed)
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        it.run(feed)
        times.append(time.perf_counter() - t0)
    q1, med, q3 = np.percentile(times, [25, 50, 75])
    del neon
    return med * 1e3, (q3 - q1) * 1e3


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="digits,mobilenet_v2")
    ap.add_argument("--sparsities", default="0.5,0.75,0.9")
    ap.add_argument("--boards", default="rpi4,rpi5")
    ap.add_argument("--no-emulate", action="store_true", help="x86 wall time and accuracy only")
    ap.add_argument("--seeds", default="0", help="digits: train and prune once per seed (Pi columns: the first)")
    ap.add_argument("--epochs", type=int, default=8, help="digits: fine-tuning epochs of the block pruning")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--calibrate", action="store_true", help="fit the cost rule's break-even line per board")
    args = ap.parse_args(argv)
    sparsities = [float(s) for s in args.sparsities.split(",") if s]
    boards = [b for b in args.boards.split(",") if b]
    if args.calibrate:
        for board in boards:
            _calibrate(board)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="sparse-bench-"))
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows = []
    runs = [(m, seed) for m in args.models.split(",") for seed in (seeds if m == "digits" else seeds[:1])]
    for model, seed in runs:
        acc: dict[str, float] = {}
        if model == "digits":
            paths, acc = _digits(sparsities, folder, seed, args.epochs)
        elif model == "mobilenet_v2":
            paths = _mobilenet(sparsities, folder)
        else:
            raise SystemExit(f"--models: {model!r} is not digits or mobilenet_v2")
        emulate = not args.no_emulate and seed == seeds[0]
        for label, path in paths.items():
            row = {"model": model if model != "digits" or len(seeds) == 1 else f"digits/{seed}", "variant": label,
                   "accuracy": acc.get(label), "float_accuracy": acc.get("float")}
            row["x86_ms"], row["x86_iqr_ms"] = _x86_wall(path)
            for board in boards if emulate else []:
                row[board] = _pi(path, board, label != "dense")
            rows.append(row)
            print(_line(row, boards, not emulate), flush=True)
    if args.markdown:
        print(_markdown(rows, [] if args.no_emulate else boards))
    return 0


def _line(row: dict, boards: list[str], no_emulate: bool) -> str:
    parts = [f"{row['model']:<13}{row['variant']:<30}x86 {row['x86_ms']:.2f} ms (IQR {row['x86_iqr_ms']:.2f})"]
    if row["accuracy"] is not None:
        parts.append(f"accuracy {row['accuracy']:.1%} (float {row['float_accuracy']:.1%})")
    for b in [] if no_emulate else boards:
        c = row[b]
        parts.append(f"{b}: neon {c['neon'] / 1e6:.2f} M cyc est., {c['neon'] / c['neon dense']:.2f}x delegate dense, "
                     f"{c['neon'] / c['xnnpack']:.2f}x XNNPACK")
    return "; ".join(parts)


def _markdown(rows: list[dict], boards: list[str]) -> str:
    rows = [r for r in rows if all(b in r for b in boards)]
    head = "| model | variant | " + " | ".join(
        f"{b} neon (M cycles, est.) | vs delegate dense | vs XNNPACK" for b in boards) + " | x86 ms (IQR) | accuracy |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [r["model"], r["variant"]]
        for b in boards:
            c = r[b]
            cells += [f"{c['neon'] / 1e6:.1f}", f"{c['neon'] / c['neon dense']:.2f}x",
                      f"{c['neon'] / c['xnnpack']:.2f}x"]
        cells.append(f"{r['x86_ms']:.2f} ({r['x86_iqr_ms']:.2f})")
        cells.append("-" if r["accuracy"] is None else f"{r['accuracy']:.1%} (float {r['float_accuracy']:.1%})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
