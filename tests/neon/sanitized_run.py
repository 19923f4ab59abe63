"""Run op models through the ASan+UBSan build of the delegate (started by test_sanitizers.py in a subprocess
with LD_PRELOAD of the sanitizer runtime). Usage: sanitized_run.py LIBRARY MODEL.tflite [...]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.neon import harness  # noqa: E402


def main(argv: list[str]) -> int:
    library, models = argv[1], argv[2:]
    for path in models:
        harness.assert_identical(Path(path).read_bytes(), library, seeds=(0, 1))
        print("ok", Path(path).name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
