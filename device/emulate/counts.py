"""Reading what the block-counting plugin wrote: the executed blocks and their executions per region.

Regions (see delegates/neon/src/profile_marker.h and guest.py): region = class << 24 | index, where class 1 is
the guest's own (index 0: the measured inferences, 1: empty brackets that price the bracketing itself) and
class 2 a node the NEON delegate ran (index: the TFLite node index), nested inside an inference. The plugin
tallies per (outermost, innermost) open region, so a node run during a warm-up (outermost: the node itself) is
never mistaken for one inside a measured inference (outermost: REGION_INFERENCE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgelift.errors import EdgeliftError

CLASS_GUEST, CLASS_NODE = 1, 2
REGION_INFERENCE = CLASS_GUEST << 24 | 0
REGION_EMPTY = CLASS_GUEST << 24 | 1


class MeterError(EdgeliftError, RuntimeError):
    """The emulated run did not produce a usable count."""


@dataclass
class Block:
    vaddr: int
    instructions: int
    code: bytes
    executions: dict[tuple[int, int], int] = field(default_factory=dict)  # (outer, inner) region -> executions


@dataclass
class Counts:
    blocks: list[Block]
    markers: int
    unbalanced: int

    def instructions(self, outer: int, inner: int | None = None) -> int:
        """Instructions executed in `inner` (any region, when None) while `outer` was the outermost region."""
        return sum(b.instructions * n for b in self.blocks for (o, i), n in b.executions.items()
                   if o == outer and (inner is None or i == inner))

    def regions(self) -> set[tuple[int, int]]:
        return {r for b in self.blocks for r in b.executions}


def read_counts(path: Path) -> Counts:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise MeterError(f"the emulated run wrote no counts ({path}: {exc.strerror})",
                         hint="the guest or qemu ended early; its output above says why") from None
    if not lines or lines[0] != "edgelift-count 1" or len(lines) < 2:
        raise MeterError(f"{path} is not a count file of this plugin version (first line {lines[:1]!r})")
    head = lines[1].split()
    stats = dict(zip(head[0::2], (int(v) for v in head[1::2])))  # noqa: B905
    if stats.get("oom"):
        raise MeterError("the counting plugin ran out of memory; counts are incomplete")
    by_id: dict[str, Block] = {}
    for line in lines[2:]:
        kind, ident, a, b, c = line.split()
        if kind == "B":
            by_id[ident] = Block(vaddr=int(a, 16), instructions=int(b), code=bytes.fromhex(c))
        elif kind == "C":
            block, region = by_id[ident], (int(a, 16), int(b, 16))
            block.executions[region] = block.executions.get(region, 0) + int(c)
    return Counts(blocks=list(by_id.values()), markers=stats.get("markers", 0),
                  unbalanced=stats.get("unbalanced", 0) + stats.get("open", 0))
