"""Cycle ESTIMATES per executed block: llvm-mca schedules each block as a steady-state loop body on a Cortex core.

What this leaves out (and the report says so): cache and TLB misses, branch mispredictions, the front end,
other threads, thermal throttling. Calls are costed as plain branches (llvm-mca would otherwise charge every
`bl` a made-up 100-cycle latency). Instructions the disassembler does not know, and the few llvm-mca has no
model for on a core (llvm 14's Cortex-A76: LSE atomics, pointer authentication), are costed as a `nop`;
they sit in libc and Python's locks, not in kernels.

Results are cached per (llvm version, core, block bytes) in the cache folder, so a second run of a model (or a
changed model that reuses most of its kernels) costs only what is new.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from .boards import Board
from .counts import MeterError

ITERATIONS = 100
_ENCODING = re.compile(r"^\s*(?P<asm>[^/]*?)\s*//\s*encoding:\s*\[(?P<bytes>[^\]]*)\]")
_ERROR_LINE = re.compile(r"^<stdin>:(\d+):\d+: error")


def _words(code: bytes) -> list[str]:
    return [code[i:i + 4].hex() for i in range(0, len(code) - 3, 4)]


def _disassemble(llvm_mc: str, attrs: str, words: list[str]) -> dict[str, str]:
    """{little-endian word hex: assembly}; words llvm-mc cannot decode are left out."""
    text = "\n".join(" ".join(f"0x{w[j:j + 2]}" for j in range(0, 8, 2)) for w in words)
    proc = subprocess.run([llvm_mc, "--disassemble", "-show-encoding", "-triple=aarch64", f"-mattr={attrs}"],
                          input=text, capture_output=True, text=True, check=False)
    asm = {}
    for line in proc.stdout.splitlines():
        m = _ENCODING.match(line)
        if m:
            word = "".join(b.strip()[2:] for b in m["bytes"].split(","))
            asm[word] = _as_costed(m["asm"].strip())
    return asm


def _as_costed(asm: str) -> str:
    mnemonic, _, rest = asm.partition("\t")
    if mnemonic == "bl":
        return f"b\t{rest}"
    if mnemonic == "blr":
        return f"br\t{rest}"
    return asm


def _assemblable(llvm_mc: str, attrs: str, lines: list[str]) -> set[int]:
    """Indices of `lines` llvm-mc cannot assemble back (llvm-mca would stop at the first)."""
    proc = subprocess.run([llvm_mc, "-triple=aarch64", f"-mattr={attrs}", "-filetype=null"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True, check=False)
    return {int(m.group(1)) - 1 for m in map(_ERROR_LINE.match, proc.stderr.splitlines()) if m}


def _mca(llvm_mca: str, board: Board, source: list[str], *extra: str) -> subprocess.CompletedProcess:
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as fh:
        fh.write("\n".join(source) + "\n")
    try:
        return subprocess.run([llvm_mca, "-mtriple=aarch64", f"-mcpu={board.mca_cpu}", f"-mattr={board.mca_attrs}",
                               *extra, fh.name], capture_output=True, text=True, check=False)
    finally:
        os.unlink(fh.name)


def _unsupported(llvm_mca: str, board: Board, lines: list[str]) -> set[str]:
    """The lines llvm-mca has no scheduling model for on this core (it stops at the first such line and names it
    in its own spelling: matched by mnemonic, else found by bisection)."""
    bad: set[str] = set()

    def fails(subset: list[str]) -> str | None:
        proc = _mca(llvm_mca, board, subset or ["nop"], "-iterations=1")
        if "unsupported instruction" not in proc.stderr:
            return None
        note = next((ln for ln in proc.stderr.splitlines() if ln.startswith("note: instruction:")), "")
        return note.partition(":")[2].partition(":")[2].strip() or "?"

    while True:
        todo = [ln for ln in lines if ln not in bad]
        named = fails(todo)
        if named is None:
            return bad
        mnemonic = named.split()[0]
        same = {ln for ln in todo if ln.split()[0] == mnemonic}
        if not same:  # printed differently (`paciasp` comes back as `hint #25`): bisect for the first failing line
            lo, hi = 0, len(todo)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if fails(todo[:mid]) is not None:
                    hi = mid
                else:
                    lo = mid
            same = {todo[lo]}
        bad |= same


def _schedule(llvm_mca: str, board: Board, bodies: dict[str, list[str]]) -> dict[str, float]:
    """{key: cycles per iteration} for each body, all in one llvm-mca run (one code region per block)."""
    source = []
    for key, body in bodies.items():
        source += [f"# LLVM-MCA-BEGIN {key}", *body, "# LLVM-MCA-END"]
    proc = _mca(llvm_mca, board, source, f"-iterations={ITERATIONS}", "--json")
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if "error" in line][:3]
        raise MeterError(f"llvm-mca failed on the executed code: {' | '.join(errors) or proc.stderr[-400:]}")
    out = {}
    for region in json.loads(proc.stdout)["CodeRegions"]:
        summary = region["SummaryView"]
        out[region["Name"]] = summary["TotalCycles"] / summary["Iterations"]
    return out


class CycleCache:
    """Cycles per block execution for one board and llvm version, kept in a JSON file."""

    def __init__(self, cache_dir: Path, board: Board, llvm_version: str):
        self.path = Path(cache_dir) / f"mca-{board.mca_cpu}-{llvm_version}.json"
        try:
            self.data: dict[str, float] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".mca-", dir=self.path.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(self.data, fh)
        os.replace(tmp, self.path)


def block_key(code: bytes) -> str:
    return hashlib.sha1(code).hexdigest()[:20]


def cost_blocks(codes: list[bytes], board: Board, llvm_mc: str, llvm_mca: str, cache: CycleCache) -> dict[str, float]:
    """{block_key(code): estimated cycles per execution} for every code (llvm-mca runs only on blocks the cache
    does not hold yet)."""
    todo = {block_key(c): c for c in codes if block_key(c) not in cache.data}
    if todo:
        words = sorted({w for c in todo.values() for w in _words(c)})
        asm = _disassemble(llvm_mc, board.mca_attrs, words)
        unique = sorted(set(asm.values()))
        bad = {unique[i] for i in _assemblable(llvm_mc, board.mca_attrs, unique) if i < len(unique)}
        bad |= _unsupported(llvm_mca, board, [u for u in unique if u not in bad])
        bodies = {k: [asm[w] if w in asm and asm[w] not in bad else "nop" for w in _words(c)] or ["nop"]
                  for k, c in todo.items()}
        cache.data.update(_schedule(llvm_mca, board, bodies))
        cache.save()
    return {block_key(c): cache.data[block_key(c)] for c in codes}


def unknown_words(codes: list[bytes], board: Board, llvm_mc: str) -> int:
    """How many distinct instruction words in `codes` the disassembler does not decode (reported, not fatal)."""
    words = sorted({w for c in codes for w in _words(c)})
    return len(words) - len(_disassemble(llvm_mc, board.mca_attrs, words))
