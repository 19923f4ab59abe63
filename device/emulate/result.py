"""What `bench --emulate` reports: per delegate, instructions and ESTIMATED cycles per inference, ms at the
board's clock, the ratio to the first delegate, and where the cycles go (ops, functions)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .boards import Board

SCHEMA = "edgelift.bench-emulate/1"
LEAVES_OUT = ("instruction counts are exact (qemu, every executed block counted); cycles and ms are ESTIMATES: "
              "llvm-mca's steady-state schedule of each executed block on the board's core, leaving out cache and "
              "TLB misses, branch mispredictions, other threads and thermal throttling")
A76_NOTE = ("llvm-mca up to version 16 schedules the Cortex-A76 with its Cortex-A57 model (narrower): Pi 5 cycles "
            "are a rough upper bound; compare instructions and ratios")


def si(value: float) -> str:
    """1234567 -> '1.23 M' (counts span a one-op model's thousands to a big model's billions)."""
    for factor, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value:.0f}  "


@dataclass
class Share:
    name: str
    instructions: float
    cycles: float
    share: float  # of the delegate's estimated cycles


@dataclass
class DelegateCost:
    delegate: str
    instructions: float  # per inference
    cycles: float        # estimated, per inference
    ms: float            # estimated, at the board's clock
    runtime: str
    partition: str | None
    by_op: list[Share]
    by_kernel: list[Share]
    outputs_sha256: str | None
    unknown_words: int
    emulation_s: float


@dataclass
class EmulatedBench:
    model: str
    board: Board
    runtime: str
    rows: list[DelegateCost]
    errors: dict[str, str]
    runs: int
    warmup: int
    qemu: str
    llvm: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.board.mca_cpu == "cortex-a76" and any(v in self.llvm for v in ("llvm-mca 1" + d for d in "0123456")):
            self.notes.append(A76_NOTE)
        for r in self.rows:
            if r.unknown_words:
                self.notes.append(f"{r.delegate}: {r.unknown_words} distinct instruction word(s) the disassembler "
                                  "does not know were costed as nops (their count is exact)")
        base = next((r for r in self.rows if r.delegate == "builtin"), None)
        for r in self.rows:
            if base is not None and r is not base and r.outputs_sha256 and base.outputs_sha256:
                same = r.outputs_sha256 == base.outputs_sha256
                if r.delegate == "neon" and not same:
                    self.notes.append("neon's outputs differ from builtin's on the emulated Pi: check with "
                                      "`edgelift validate --delegate neon --reference-delegate builtin --exact`")

    def ratio(self, row: DelegateCost) -> float | None:
        first = self.rows[0] if self.rows else None
        return row.cycles / first.cycles if first and first.cycles else None

    def format(self) -> str:
        b = self.board
        runtime = self.rows[0].runtime if self.rows else self.runtime
        lines = [f"ESTIMATE for {b.title}: {runtime} under {self.qemu.replace(' version', '')}, 1 thread, "
                 f"{self.runs} counted inference(s) after {self.warmup} warm-up"]
        first = self.rows[0].delegate if self.rows else "-"
        lines.append(f"{'delegate':<9} {'instructions':>13} {'est. cycles':>12} {'est. ms':>8} "
                     f"{'vs ' + first:>10}  partition")
        for r in self.rows:
            ratio = self.ratio(r)
            lines.append(f"{r.delegate:<9} {si(r.instructions):>13} {si(r.cycles):>12} {r.ms:>8.3f} "
                         f"{(f'{ratio:.2f}' if ratio is not None else '-'):>10}  {r.partition or ''}".rstrip())
        for name, why in self.errors.items():
            lines.append(f"{name:<9} failed: {why}")
        for r in self.rows:
            if r.by_op:
                lines.append(f"{r.delegate}: by op   " + ", ".join(f"{s.name} {s.share:.0%}" for s in r.by_op))
        for r in self.rows:
            lines.append(f"{r.delegate}: top functions by est. cycles")
            for s in r.by_kernel:
                lines.append(f"  {s.share:>6.1%} {si(s.cycles):>9} cycles {si(s.instructions):>9} instr  {s.name[:96]}")
        lines.append(f"ESTIMATE: {LEAVES_OUT} ({self.llvm}, -mcpu={b.mca_cpu}; ms at {b.clock_ghz} GHz).")
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"metered in {self.seconds:.1f} s")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "model": self.model, "board": asdict(self.board), "runtime": self.runtime,
                "runs": self.runs, "warmup": self.warmup, "qemu": self.qemu, "llvm": self.llvm,
                "estimate": LEAVES_OUT, "notes": self.notes, "errors": self.errors, "seconds": self.seconds,
                "delegates": [dict(asdict(r), ratio_to_first=self.ratio(r)) for r in self.rows]}
