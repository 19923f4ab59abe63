"""A MediaPipe-style float .tflite to int8, end to end, without TensorFlow.

`face_detector.tflite` (shipped next to this file; `make_models.py` rebuilds it) is a tiny BlazeFace-like
detector stored as MediaPipe's models are: no SignatureDef, op codes in the deprecated 8-bit field, and a
variant with fp16 weights. This script:

1. writes calibration and test images (synthetic faces, numpy only) as .npz;
2. converts both files with `edgelift.convert(..., quantize="int8", calibration=...)` (ai-edge-quantizer);
3. checks the NEON delegate computes the int8 model bit for bit as LiteRT's builtin kernels
   (`edgelift.validate(..., delegate="neon", reference_delegate="builtin", exact=True)`);
4. compares the int8 model with the float original on the test images (both through LiteRT's builtin
   kernels): does it pick the same anchor, the true one, and how far do its boxes move (in pixels)?

Outputs go to out/face_detector/ (or --out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.face_detector import face_model  # noqa: E402

MODELS = ("face_detector.tflite", "face_detector_fp16.tflite")


def detect(path: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face scores [n, anchors] and boxes [n, anchors, 4] of a detector with float32 I/O, one image a call."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_path=str(path),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    (inp,) = it.get_input_details()
    outs = {d["name"].removesuffix("_int8"): d["index"] for d in it.get_output_details()}
    scores, boxes = [], []
    for img in x:
        it.set_tensor(inp["index"], img[None])
        it.invoke()
        scores.append(it.get_tensor(outs["classificators"])[0, :, 0])
        boxes.append(it.get_tensor(outs["regressors"])[0])
    return np.stack(scores), np.stack(boxes)


def main(argv: list[str] | None = None) -> int:
    import edgelift

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "face_detector"), help="output folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x, cls, _ = face_model.synthetic_faces(228, seed=1)  # not the images the detector was trained on
    np.savez(out / "cal.npz", x=x[:128])
    np.savez(out / "test.npz", x=x[128:], y=cls[128:].argmax(1))  # y: the anchor holding the face

    rows = []
    for name in MODELS:
        q = out / name.replace(".tflite", "_int8.tflite")
        res = edgelift.convert(str(HERE / name), str(q), quantize="int8", io="float32",
                               calibration=str(out / "cal.npz"))
        print(res.summary(), "\n")
        exact = edgelift.validate(str(q), delegate="neon", reference_delegate="builtin", exact=True,
                                  data=str(out / "test.npz"))
        rows.append((name, (HERE / name).stat().st_size, res.size_bytes, exact, q))

    test_x, truth = x[128:], cls[128:].argmax(1)
    print(f"{'float model':<28}{'bytes':>8}{'int8':>8}  {'neon vs builtin':<20}{'same anchor':>12}"
          f"{'found (float/int8)':>20}{'box shift px (median/max)':>28}")
    for name, before, after, exact, q in rows:
        ident = min(o["exact"]["identical_share"] for o in exact.outputs)
        f_scores, f_boxes = detect(HERE / name, test_x)
        q_scores, q_boxes = detect(q, test_x)
        f_pick, q_pick = f_scores.argmax(1), q_scores.argmax(1)
        n = np.arange(len(truth))
        shift = np.abs(q_boxes[n, truth] - f_boxes[n, truth]).max(1) * face_model.SIZE
        found = f"{np.mean(f_pick == truth):.0%} / {np.mean(q_pick == truth):.0%}"
        print(f"{name:<28}{before:>8,}{after:>8,}  {f'{100 * ident:.1f}% identical':<20}"
              f"{np.mean(f_pick == q_pick):>12.0%}{found:>20}"
              f"{f'{np.median(shift):.2f} / {shift.max():.2f}':>28}")
    print(f"\ndata: {len(test_x)} synthetic test images ({out / 'test.npz'}); box shift: the true anchor's box, int8 "
          f"vs float, largest of its 4 coordinates, in pixels of {face_model.SIZE}; files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
