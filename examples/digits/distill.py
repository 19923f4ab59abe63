"""Does `convert --distill` recover a 90%-pruned digits CNN better than plain fine-tuning?

For each seed: train the CNN of `digits.py` (the teacher, and the model to prune), then convert it three times
with the same pruning, epochs, batch size and calibration: (a) fine-tuned on the labels alone, (b) with --distill
(the input model as teacher), (c) with --distill on the same images without their labels. Prints the int8
accuracy of each on the held-out test images (LiteRT builtin kernels), per seed, then medians and [min, max].
Training is not bit-reproducible, hence several seeds.

    .venv/bin/python examples/digits/distill.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def one_seed(seed: int, args, folder: Path) -> dict[str, float]:
    import numpy as np

    from edgelift.converters.pipeline import convert
    from edgelift.converters.warn import ConvertWarning
    from examples.digits.digits import train_cnn

    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=args.train_epochs, seed=seed)
    model_path, train, test = folder / f"cnn{seed}.keras", folder / "train.npz", folder / "test.npz"
    model.save(model_path)
    np.savez(train, x=x_train, y=y_train)
    np.savez(folder / "unlabelled.npz", x=x_train)
    np.savez(test, x=x_test, y=y_test)
    common = dict(prune=args.prune, prune_kind=args.kind, train_data=str(train), calibration=str(train),
                  eval_data=str(test), epochs=args.epochs, quantize="int8")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvertWarning)
        distill = {"distill": True, "temperature": args.temperature}
        for name, extra in (("plain", {}), ("distill", {**distill, "distill_alpha": args.alpha}),
                            ("unlabelled", {**distill, "train_data": str(folder / "unlabelled.npz")})):
            r = convert(str(model_path), str(folder / f"{name}{seed}.tflite"), **{**common, **extra})
            out[name] = r.report["accuracy"]["tflite"]
            out["float"] = r.report["accuracy"]["float"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--prune", type=float, default=0.9)
    parser.add_argument("--kind", default="unstructured", choices=["unstructured", "block"])
    parser.add_argument("--epochs", type=int, default=8, help="fine-tuning epochs, the same for both")
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--train-epochs", type=int, default=80, help="epochs of the float CNN (the teacher)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            r = one_seed(seed, args, Path(tmp))
            rows.append(r)
            print(f"seed {seed}: float {r['float']:.4f}  plain int8 {r['plain']:.4f}  distill int8 "
                  f"{r['distill']:.4f}  no-label distill int8 {r['unlabelled']:.4f}  (distill - plain "
                  f"{100 * (r['distill'] - r['plain']):+.1f} pp)", flush=True)
    print(f"pruned {args.prune:.0%} {args.kind}, {args.epochs} fine-tuning epochs, --temperature {args.temperature:g} "
          f"--distill-alpha {args.alpha:g}, {len(rows)} seeds:")
    for key in ("float", "plain", "distill", "unlabelled"):
        vals = [r[key] for r in rows]
        print(f"  {key:10s} median {statistics.median(vals):.4f}  [min {min(vals):.4f}, max {max(vals):.4f}]")
    gain = [r["distill"] - r["plain"] for r in rows]
    print(f"  distill - plain: median {100 * statistics.median(gain):+.1f} pp  [min {100 * min(gain):+.1f}, "
          f"max {100 * max(gain):+.1f}]; distill ahead in {sum(g > 0 for g in gain)} of {len(gain)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
