"""Naming guest code addresses: which library, which function.

The guest's /proc/self/maps (under qemu-user, the guest's own address space) gives each library's load address;
the library's ELF symbols (`llvm-nm`: the full table where the file has one, else the exported ones) give the
function. An address inside a library but in no sized symbol (a stripped or hidden function) is named by the
library alone, never by the nearest unrelated export.
"""

from __future__ import annotations

import bisect
import os
import subprocess
from dataclasses import dataclass, field

ET_EXEC = 2


def _elf_type(path: str) -> int | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(18)
    except OSError:
        return None
    return int.from_bytes(head[16:18], "little") if head[:4] == b"\x7fELF" and len(head) == 18 else None


@dataclass(frozen=True)
class Mapping:
    start: int
    end: int
    offset: int
    path: str


def parse_maps(text: str) -> list[Mapping]:
    maps = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[5].startswith("/"):
            continue
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        maps.append(Mapping(lo, hi, int(parts[2], 16), parts[5].strip()))
    return sorted(maps, key=lambda m: m.start)


@dataclass
class _Table:
    starts: list[int]
    entries: list[tuple[int, int, str]]  # (start, size, name), sorted by start


def _read_symbols(llvm_nm: str, path: str) -> _Table:
    entries: dict[int, tuple[int, int, str]] = {}
    for dynamic in (False, True):
        argv = [llvm_nm, "--defined-only", "-S", "-C", *(["-D"] if dynamic else []), path]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[2] in "TtWw" and len(parts[2]) == 1:
                start, size = int(parts[0], 16), int(parts[1], 16)
                if size and start not in entries:
                    entries[start] = (start, size, parts[3])
        if entries:  # the full table covers the exported names too
            break
    ordered = sorted(entries.values())
    return _Table([e[0] for e in ordered], ordered)


@dataclass
class Symbolizer:
    maps_text: str
    llvm_nm: str
    _maps: list[Mapping] = field(init=False)
    _bases: dict[str, int] = field(init=False)
    _tables: dict[str, _Table] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._maps = parse_maps(self.maps_text)
        self._starts = [m.start for m in self._maps]
        self._bases = {}
        for m in self._maps:
            if m.path not in self._bases:
                # a shared object's (or PIE's) link-time addresses are relative to its first mapping; a fixed
                # executable's (ET_EXEC, e.g. Debian's python3.11) are absolute
                self._bases[m.path] = 0 if _elf_type(m.path) == ET_EXEC else m.start - m.offset

    def library(self, addr: int) -> tuple[str, int] | None:
        """(path, address relative to the file's load base) of `addr`, or None outside every file mapping."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or addr >= self._maps[i].end:
            return None
        m = self._maps[i]
        return m.path, addr - self._bases[m.path]

    def name(self, addr: int) -> tuple[str, str]:
        """(library file name, function name or '?') of `addr`."""
        where = self.library(addr)
        if where is None:
            return "[anonymous]", "?"
        path, rel = where
        table = self._tables.get(path)
        if table is None:
            table = self._tables[path] = _read_symbols(self.llvm_nm, path) if os.path.isfile(path) else _Table([], [])
        i = bisect.bisect_right(table.starts, rel) - 1
        if i >= 0:
            start, size, name = table.entries[i]
            if rel < start + size:
                return os.path.basename(path), name
        return os.path.basename(path), "?"
