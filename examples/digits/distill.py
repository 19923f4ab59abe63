"""Does `convert --distill` recover a 90%-pruned digits CNN better than plain fine-tuning?

For each seed: train the CNN of `digits.py` (the teacher, and the model to prune), then convert it with the same
pruning, epochs, batch size and calibration, fine-tuned four ways: (a) plain: the labels alone, clean images;
(b) plain + aug: the labels of the same augmented batches distillation sees (random 1-pixel shifts + mixup, the
mixed labels weighted by lambda: --distill --distill-alpha 0 --distill-augment image); (c) distill, clean: the
teacher's outputs computed once on the clean images (--distill-augment none); (d) distill, consistent: teacher
and student see the same augmented batch, the teacher's outputs computed on it (--distill-augment image).
Prints the int8 accuracy of each on the held-out test images (LiteRT builtin kernels), per seed, then medians,
[min, max] and the paired per-seed differences. Training is not bit-reproducible, hence several seeds.

    .venv/bin/python examples/digits/distill.py --seeds 0 1 2 3 4 [--kind block]
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

VARIANTS = ("plain", "plain+aug", "distill clean", "distill consistent")


def one_seed(seed: int, args, folder: Path) -> dict[str, float]:
    import numpy as np

    from edgelift.converters.pipeline import convert
    from edgelift.converters.warn import ConvertWarning
    from examples.digits.digits import train_cnn

    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=args.train_epochs, seed=seed)
    model_path, train, test = folder / f"cnn{seed}.keras", folder / "train.npz", folder / "test.npz"
    model.save(model_path)
    np.savez(train, x=x_train, y=y_train)
    np.savez(test, x=x_test, y=y_test)
    common = dict(prune=args.prune, prune_kind=args.kind, train_data=str(train), calibration=str(train),
                  eval_data=str(test), epochs=args.epochs, quantize="int8")
    distill = {"distill": True, "temperature": args.temperature, "distill_alpha": args.alpha}
    extras = {"plain": {}, "plain+aug": {**distill, "distill_alpha": 0.0, "distill_augment": args.augment},
              "distill clean": {**distill, "distill_augment": "none"},
              "distill consistent": {**distill, "distill_augment": args.augment}}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvertWarning)
        for name in args.variants:
            r = convert(str(model_path), str(folder / f"v{seed}.tflite"), **{**common, **extras[name]})
            out[name] = r.report["accuracy"]["tflite"]
            out[name + " (float)"] = r.report["accuracy"]["float_optimized"]  # pruned, before int8
            out["float"] = r.report["accuracy"]["float"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--prune", type=float, default=0.9)
    parser.add_argument("--kind", default="unstructured", choices=["unstructured", "block"])
    parser.add_argument("--epochs", type=int, default=8, help="fine-tuning epochs, the same for all")
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--alpha", type=float, default=0.5)
    parser.add_argument("--augment", default="image", choices=["mixup", "image"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--train-epochs", type=int, default=80, help="epochs of the float CNN (the teacher)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            r = one_seed(seed, args, Path(tmp))
            rows.append(r)
            print(f"seed {seed}: float {r['float']:.4f}  " + "  ".join(
                f"{k} {r[k]:.4f} (float {r[k + ' (float)']:.4f})" for k in args.variants), flush=True)
    print(f"pruned {args.prune:.0%} {args.kind}, {args.epochs} fine-tuning epochs, --temperature {args.temperature:g} "
          f"--distill-alpha {args.alpha:g}, augment {args.augment}, {len(rows)} seeds (int8 test accuracy):")
    for key in ("float", *args.variants):
        vals = [r[key] for r in rows]
        print(f"  {key:19s} median {statistics.median(vals):.4f}  [min {min(vals):.4f}, max {max(vals):.4f}]")
    for key in args.variants[1:]:
        gain = [r[key] - r[args.variants[0]] for r in rows]
        print(f"  {key} - {args.variants[0]}: median {100 * statistics.median(gain):+.1f} pp  [min "
              f"{100 * min(gain):+.1f}, max {100 * max(gain):+.1f}]; ahead in {sum(g > 0 for g in gain)} of "
              f"{len(gain)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
