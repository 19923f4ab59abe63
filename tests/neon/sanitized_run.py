"""Run op models through the ASan+UBSan build of the delegate (started by test_sanitizers.py in a subprocess
with LD_PRELOAD of the sanitizer runtime). Usage: sanitized_run.py LIBRARY [fuse=VALUE] MODEL.tflite [...]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.neon import harness  # noqa: E402


def _resized(model: bytes, library: str, fuse: str) -> None:
    """Prepare twice (batch 1, then batch 2): packed weights are kept, shape-dependent buffers replaced."""
    import numpy as np

    outs = []
    for it in (harness.interpreter(model), harness.interpreter(model, library, fuse=fuse)):
        d = it.get_input_details()[0]
        it.resize_tensor_input(d["index"], [2, *d["shape"][1:]])
        it.allocate_tensors()
        x = np.random.default_rng(0).integers(-128, 128, [2, *d["shape"][1:]], dtype=np.int8)
        outs.append(harness.run(it, [x]))
    assert all(np.array_equal(a, b) for a, b in zip(*outs, strict=True)), "resized outputs differ"


def _delegate_freed_first(model: bytes, library: str) -> None:
    """The native delegate destroyed while an interpreter of its partitions lives (Python's collector may
    free them in either order): freeing the partitions afterwards must not touch the delegate."""
    import gc

    from ai_edge_litert.interpreter import Interpreter, OpResolverType, load_delegate

    d = load_delegate(library, {"log_level": "silent"})
    it = Interpreter(model_content=model, experimental_delegates=[d],
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.invoke()
    d.__del__()  # tflite_plugin_destroy_delegate now, not at the interpreter's end
    d._library = None
    del it
    gc.collect()


def main(argv: list[str]) -> int:
    library, models, fuse = argv[1], argv[2:], "off"
    if models and models[0].startswith("fuse="):
        fuse, models = models[0].removeprefix("fuse="), models[1:]
    for i, path in enumerate(models):
        model = Path(path).read_bytes()
        harness.assert_identical(model, library, seeds=(0, 1), fuse=fuse)
        if i < 3 or Path(path).name.startswith("resized-"):
            _resized(model, library, fuse)
        if Path(path).name.startswith("resized-"):
            _delegate_freed_first(model, library)
        print("ok", Path(path).name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
