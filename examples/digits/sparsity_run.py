"""The sparsity search on the digits CNN: pruning every layer 90% costs accuracy; `convert --prune 0.9
--max-accuracy-drop` lowers the sparsity of the layers that suffer most until the budget is met.

For each run (a fresh training, seed = run number): train the CNN of `digits.py`, then convert it twice with the
same pruning (0.9 unstructured on conv2, conv3 and fc1 — conv1 and the logits layer stay dense by default —
fine-tuned on the training split) and int8: once uniformly, once with a 2-point budget, which searches per-layer
sparsity (and per-op precision). The test split is halved: the search measures on the first half, the figures
come from the held-out second half (LiteRT builtin kernels). Training is not bit-reproducible: medians and ranges.

    python examples/digits/sparsity_run.py --runs 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.digits.repeated import spread_line  # noqa: E402 (after the path above)

BUDGET = "2%"
SPARSITY = 0.9


def one_run(seed: int, epochs: int, fine_tune: int, out: Path) -> dict:
    import numpy as np

    from edgelift.converters.pipeline import convert
    from edgelift.errors import ThresholdError
    from examples.digits.digits import train_cnn
    from examples.digits.search_run import _accuracy

    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=epochs, seed=seed)
    half = len(x_test) // 2
    model.save(out / "cnn.keras")
    np.savez(out / "cal.npz", x=x_train[:200])
    np.savez(out / "train.npz", x=x_train, y=y_train)
    np.savez(out / "eval.npz", x=x_test[:half], y=y_test[:half])
    xh, yh = x_test[half:], y_test[half:]
    common = dict(calibration=str(out / "cal.npz"), train_data=str(out / "train.npz"), epochs=fine_tune,
                  prune=SPARSITY, io="float32")
    row: dict = {"float": float(np.mean(model.predict(xh, verbose=0).argmax(1) == yh))}
    uniform = convert(str(out / "cnn.keras"), str(out / "uniform.tflite"), **common)
    row["uniform"] = _accuracy(uniform.output.read_bytes(), xh, yh)
    try:
        r = convert(str(out / "cnn.keras"), str(out / "search.tflite"), eval_data=str(out / "eval.npz"),
                    max_accuracy_drop=BUDGET, **common)
    except ThresholdError as exc:
        print(f"run {seed}: {exc.message}\n")
        row.update(search=None, chosen="none within budget")
        return row
    sp = r.report["search"]["sparsity"]
    chosen = next(p for p in sp["pruned"] if p["number"] == sp["chosen"])
    row["search"] = _accuracy(r.output.read_bytes(), xh, yh)
    row["chosen"] = (f"P{chosen['number']} of {len(sp['pruned'])} in {sp['seconds']:.0f} s: "
                     + ", ".join(f"{n} {s:.2f}" for n, s in chosen["sparsity"].items()))
    print(f"run {seed}:\n{r.report['search']['table']}\n")
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="trainings (seeds 1..N)")
    parser.add_argument("--epochs", type=int, default=30, help="float training epochs")
    parser.add_argument("--fine-tune-epochs", type=int, default=4, help="pruning fine-tuning epochs")
    args = parser.parse_args(argv)
    if min(args.runs, args.epochs, args.fine_tune_epochs) < 1:
        parser.error(f"--runs, --epochs and --fine-tune-epochs must be >= 1, got {args.runs}, {args.epochs} and "
                     f"{args.fine_tune_epochs}")
    warnings.simplefilter("ignore")
    rows = []
    for seed in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(one_run(seed, args.epochs, args.fine_tune_epochs, Path(tmp)))
    print(f"held-out test accuracy over {len(rows)} run(s) (budget: drop <= {BUDGET} on the search's half), "
          f"pruned {SPARSITY:.0%} + int8: median [min, max]")
    for key, label in (("float", "float (Keras)"), ("uniform", f"every layer {SPARSITY:.0%}"),
                       ("search", "sparsity search")):
        vals = [100 * float(r[key]) for r in rows if r.get(key) is not None]
        if vals:
            print(spread_line(label, vals, 24))
    for r in rows:
        print(f"  chosen: {r['chosen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
