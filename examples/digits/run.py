"""The digits example, end to end (`make demo`).

Trains the small CNN of `digits.py` on scikit-learn's bundled handwritten digits (real data, offline), then
asks `edgelift.convert` for four variants and prints one table:

    float          the trained model as a float32 .tflite
    int8           full-integer, per-channel weights, calibrated on training images
    75% + int8     magnitude pruning to 75% (fine-tuned), then int8
    2:4 + int8     2:4 structured sparsity (fine-tuned), then int8

Accuracy is measured on the held-out test images: the Keras float model, and the .tflite through LiteRT's
builtin kernels. Then (on_device.py) validates the int8 model on the desktop — NEON delegate bit for bit with
the builtin kernels, accuracy against Keras — and deploys the float and int8 models to an emulated Raspberry Pi
4 that it starts and stops itself, running test images there. Outputs go to out/digits/ (or --out).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VARIANTS = [
    ("float", {"quantize": "none"}),
    ("int8", {"quantize": "int8"}),
    ("75% + int8", {"quantize": "int8", "prune": 0.75}),
    ("2:4 + int8", {"quantize": "int8", "prune_kind": "2:4"}),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "digits"), help="output folder")
    parser.add_argument("--epochs", type=int, default=30, help="training epochs of the float CNN")
    parser.add_argument("--finetune-epochs", type=int, default=3, help="fine-tuning epochs while pruning")
    parser.add_argument("--no-device", action="store_true",
                        help="stop after converting (skip desktop validation and the emulated-Pi deploy)")
    args = parser.parse_args(argv)

    import numpy as np

    import edgelift
    from edgelift.converters.warn import ConvertWarning
    from examples.digits.digits import train_cnn

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    print(f"training the digits CNN ({args.epochs} epochs) ...", flush=True)
    model, (x_train, y_train, x_test, y_test) = train_cnn(epochs=args.epochs)
    model.save(out / "digits_cnn.keras")
    np.savez(out / "train.npz", x=x_train, y=y_train)
    np.savez(out / "test.npz", x=x_test, y=y_test)
    print(f"  {len(x_train)} training / {len(x_test)} test images, trained in {time.perf_counter() - t0:.1f} s")

    rows = []
    for name, opts in VARIANTS:
        path = out / f"digits_{name.replace('%', '').replace(':', 'of').replace(' + ', '_')}.tflite"
        extra = {}
        if opts["quantize"] == "int8":
            extra["calibration"] = out / "train.npz"
        if "prune" in opts or "prune_kind" in opts:
            extra.update(train_data=out / "train.npz", epochs=args.finetune_epochs)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvertWarning)
            # file paths (not arrays) so the recipe written next to each .tflite can be rerun as is
            res = edgelift.convert(out / "digits_cnn.keras", path, eval_data=out / "test.npz",
                                   report=path.with_suffix(".json"), **opts, **extra)
        rep = res.report
        acc = rep["accuracy"]
        rows.append((name, rep["output"]["size_bytes"], rep["output"]["gzip_bytes"],
                     rep["sparsity"]["weight_sparsity"], acc.get("float_optimized", acc["float"]), acc["float"],
                     acc["tflite"], time.perf_counter() - t, path.name))

    print()
    head = (f"{'variant':<12} {'size':>9} {'gzip':>9} {'sparsity':>9} {'float acc':>10} {'.tflite acc':>12} "
            f"{'time':>7}  file")
    print(head)
    print("-" * len(head))
    for name, size, gz, sp, facc, _orig, tacc, secs, fname in rows:
        print(f"{name:<12} {size:>9,} {gz:>9,} {sp:>9.1%} {facc:>10.2%} {tacc:>12.2%} {secs:>6.1f}s  {fname}")
    print()
    print(f"float acc: the Keras model the variant was converted from (after pruning + fine-tuning, if any);"
          f"\n.tflite acc: the file run through LiteRT's builtin kernels; test set: {len(x_test)} images.")
    print("sparsity: zero weights over all conv/dense weights of the .tflite (first conv and classifier stay "
          "dense by default).")
    print(f"outputs, JSON reports and recipes in {out}  (total {time.perf_counter() - t0:.0f} s)")
    if args.no_device:
        return 0

    from examples.digits.on_device import deploy_to_emulated_pi, validate_on_desktop

    int8 = out / "digits_int8.tflite"
    validate_on_desktop(int8, out / "digits_cnn.keras", out / "test.npz")
    deploy_to_emulated_pi([out / "digits_float.tflite", int8], out / "test.npz", out)
    print(f"\ndone in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
