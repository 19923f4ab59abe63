"""Does `convert --distill` recover a 90%-pruned digits CNN better than plain fine-tuning?

For each seed: train the CNN of `digits.py` (the teacher, and the model to prune), then convert it three times
with the same pruning, epochs, batch size and calibration: (a) fine-tuned on the labels alone, (b) with --distill
(the input model as teacher), (c) with --distill on the same images without their labels, and with
`--labelled N` (d) fine-tuned plainly on only N of the labelled training images (as many optimizer steps as
the others): what a user with a trained model, their own unlabelled images and few labels can do without
distillation, to set beside (c). Prints the int8 accuracy of each on the held-out test images (LiteRT builtin
kernels), per seed, then medians and [min, max].
Training is not bit-reproducible, hence several seeds.

    .venv/bin/python examples/digits/distill.py --seeds 0 1 2
    .venv/bin/python examples/digits/distill.py --seeds 0 1 2 3 4 --labelled 100 --variants plain,unlabelled,few
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
    if args.labelled:  # the first N of the (already shuffled) training split, its labels kept
        np.savez(folder / "few.npz", x=x_train[:args.labelled], y=y_train[:args.labelled])
    common = dict(prune=args.prune, prune_kind=args.kind, train_data=str(train), calibration=str(train),
                  eval_data=str(test), epochs=args.epochs, quantize="int8")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvertWarning)
        distill = {"distill": True, "temperature": args.temperature}
        variants = {"plain": {}, "distill": {**distill, "distill_alpha": args.alpha},
                    "unlabelled": {**distill, "train_data": str(folder / "unlabelled.npz")},
                    # as many optimizer steps as the others (epochs scaled by the data it lacks): the comparison is
                    # of labels, not of training length
                    "few": {"train_data": str(folder / "few.npz"),
                            "epochs": round(args.epochs * len(x_train) / max(args.labelled, 1))}}
        for name in args.variants:
            extra = variants[name]
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
    parser.add_argument("--labelled", type=int, default=0, help="N: add variant 'few', plain fine-tuning on N labels")
    parser.add_argument("--variants", default=None, help="comma list of plain, distill, unlabelled, few "
                        "[default: plain,distill,unlabelled (+ few with --labelled)]")
    args = parser.parse_args(argv)
    known = ("plain", "distill", "unlabelled", "few")
    args.variants = args.variants.split(",") if args.variants else \
        ["plain", "distill", "unlabelled", *(["few"] if args.labelled else [])]
    bad = [v for v in args.variants if v not in known]
    if bad or ("few" in args.variants and args.labelled < 10):
        parser.error(f"--variants {','.join(bad) or 'few'}: allowed {', '.join(known)}; 'few' needs --labelled N >= 10")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            r = one_seed(seed, args, Path(tmp))
            rows.append(r)
            print(f"seed {seed}: " + "  ".join(f"{k} {r[k]:.4f}" for k in ("float", *args.variants)), flush=True)
    few = f", few = {args.labelled} labels" if "few" in args.variants else ""
    print(f"pruned {args.prune:.0%} {args.kind}, {args.epochs} fine-tuning epochs, --temperature {args.temperature:g} "
          f"--distill-alpha {args.alpha:g}{few}, int8 accuracy, {len(rows)} seeds:")
    for key in ("float", *args.variants):
        vals = [r[key] for r in rows]
        print(f"  {key:10s} median {statistics.median(vals):.4f}  [min {min(vals):.4f}, max {max(vals):.4f}]")
    for a, b in (("distill", "plain"), ("unlabelled", "few")):
        if a in args.variants and b in args.variants:
            gain = [r[a] - r[b] for r in rows]
            print(f"  {a} - {b}: median {100 * statistics.median(gain):+.1f} pp  [min {100 * min(gain):+.1f}, "
                  f"max {100 * max(gain):+.1f}]; {a} ahead in {sum(g > 0 for g in gain)} of {len(gain)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
