"""The estimated Pi 4 cost of the search's variants, from the cost meter (`bench --emulate rpi4`).

The meter runs the model under qemu-aarch64 (about 40 s a model here), so the search meters two variants only,
when asked (`--search-cost`): the all-int8 start and the one chosen, on LiteRT's builtin kernels in the emulated
Pi's tflite-runtime 2.14. A variant the Pi's runtime cannot run says so instead of a figure (measured: a model
mixing int8 and int16x8 activations, whose QUANTIZE converts int8 to int16, fails to prepare in tflite-runtime
2.14 and in the meter's ai-edge-litert, while LiteRT 2.3 on the desktop runs it).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgelift.errors import EdgeliftError

from .precision_search import SearchResult

BOARD = "rpi4"


def pi_cost(tflite: bytes) -> str:
    """'0.123 ms est.' on a Pi 4 (builtin kernels), or 'n/a: why'."""
    from edgelift.device.emulate.meter import emulate_bench

    with tempfile.TemporaryDirectory(prefix="edgelift-cost-") as tmp:
        path = Path(tmp) / "variant.tflite"
        path.write_bytes(tflite)
        try:
            r = emulate_bench(str(path), board=BOARD, delegates="builtin")
        except EdgeliftError as exc:
            return f"n/a: {exc.message[:80]}"
    if r.rows:
        return f"{r.rows[0].ms:.3f} ms est."
    why = next(iter(r.errors.values()), "no figure")
    return "n/a: " + ("the Pi's runtime cannot prepare it (" + why.split("Node number")[-1].strip()[:40] + ")"
                      if "failed to prepare" in why else why[:80])


def costs(result: SearchResult) -> dict[int, str]:
    """Variant number -> estimated cost, for the all-int8 start and the chosen variant."""
    win = result.winner
    wanted = [result.variants[0]] + ([win] if win is not None and win is not result.variants[0] else [])
    return {v.number: pi_cost(v.tflite) for v in wanted}
