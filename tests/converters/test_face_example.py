"""examples/face_detector/run.py end to end: both shipped detectors converted, exact on the NEON delegate,
and the table printed."""

from __future__ import annotations

from examples.face_detector import run


def test_example_runs(tmp_path, capsys):
    assert run.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("face_detector")]
    assert len(rows) == 2 and all("100.0% identical" in r for r in rows)
    assert (tmp_path / "face_detector_int8.tflite").exists() and (tmp_path / "face_detector_fp16_int8.tflite").exists()
    assert "24 fp16 weights widened to float32" in out
