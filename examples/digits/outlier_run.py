"""The outlier example: a digits CNN that int8 breaks, the diagnosis that names why, and the fixes.

For each run (a fresh training, seed = run number): train the CNN of `digits.py`, give conv3's busiest channel
x1000 (fc1's weights reading it /1000: the same function in float, `outlier.py`), then convert it with
`edgelift.convert` as int8, int8 + --equalize, int8 + --equalize --bias-correction and int16x8, and measure
test accuracy on LiteRT's builtin kernels. The first run also prints `validate --per-layer` on the plain int8
model. Training is not bit-reproducible: the table gives each variant's median and range over the runs.

    python examples/digits/outlier_run.py --runs 3
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.digits.repeated import parse_runs, spread_line  # noqa: E402 (after the path above)

VARIANTS = [
    ("int8", {"quantize": "int8"}),
    ("int8 + equalize", {"quantize": "int8", "equalize": True}),
    ("int8 + equalize + bias corr.", {"quantize": "int8", "equalize": True, "bias_correction": True}),
    ("int16x8", {"quantize": "int16x8"}),
]


def one_run(seed: int, epochs: int, out: Path, show_diagnosis: bool) -> dict[str, float]:
    import numpy as np

    from edgelift.converters.pipeline import convert
    from examples.digits.digits import train_cnn
    from examples.digits.outlier import add_outlier_channel

    model, (x_train, _y_train, x_test, y_test) = train_cnn(epochs=epochs, seed=seed)
    hard, channel = add_outlier_channel(model, x_train)
    test = out / f"test{seed}.npz"
    np.savez(test, x=x_test, y=y_test)
    acc = {"float": float(np.mean(hard.predict(x_test, verbose=0).argmax(1) == y_test))}
    for name, kw in VARIANTS:
        path = out / f"{name.replace(' ', '').replace('+', '_').replace('.', '')}_{seed}.tflite"
        r = convert(hard, str(path), calibration=x_train, eval_data=str(test), io="float32", **kw)
        acc[name] = r.report["accuracy"]["tflite"]
        if show_diagnosis and name == "int8":
            from edgelift.device.checking.validate import validate

            float_ref = out / f"float_{seed}.tflite"
            convert(hard, str(float_ref), quantize="none")
            v = validate(path, reference=float_ref, data=test, per_layer=True, check=False)
            print(f"run {seed}: conv3 channel {channel} x1000\n{v.format()}\n")
    return acc


def main(argv: list[str] | None = None) -> int:
    args = parse_runs(__doc__.splitlines()[0], argv)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(seed, args.epochs, Path(tmp), seed == 1) for seed in range(1, args.runs + 1)]
    print(f"test accuracy over {len(runs)} run(s): median [min, max]")
    for name in ["float"] + [n for n, _ in VARIANTS]:
        print(spread_line(name, [100 * r[name] for r in runs], 30))
    return 0


if __name__ == "__main__":
    sys.exit(main())
