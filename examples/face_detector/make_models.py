"""Rebuild the shipped face_detector.tflite and face_detector_fp16.tflite (needs TensorFlow; about a minute).

    .venv/bin/python examples/face_detector/make_models.py [--out examples/face_detector]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.face_detector import face_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE), help="output folder")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = face_model.train(face_model.build(), args.epochs)
    (out / "face_detector.tflite").write_bytes(face_model.mediapipe_style(face_model.float_tflite(model)))
    (out / "face_detector_fp16.tflite").write_bytes(
        face_model.mediapipe_style(face_model.float_tflite(model, fp16=True)))
    for name in ("face_detector.tflite", "face_detector_fp16.tflite"):
        print(f"wrote {out / name} ({(out / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
