"""What a delegate took: the partition report ("N of M nodes delegated in K partitions; not delegated: ..."),
read from the interpreter's execution plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PartitionInfo:
    """Which nodes each delegate took, derived from the interpreter's node list after delegation."""

    total_nodes: int
    delegated_nodes: list[int]
    partitions: list[list[int]]  # original node indices per delegate kernel
    not_delegated: list[tuple[int, str]]  # (node index, op name)
    delegate: str

    @property
    def summary(self) -> str:
        n, m, k = len(self.delegated_nodes), self.total_nodes, len(self.partitions)
        if self.delegate == "builtin":
            return f"0 of {m} nodes delegated (builtin kernels run all {m})"
        left = _op_counts([op for _, op in self.not_delegated])
        part = "partition" if k == 1 else "partitions"
        return f"{n} of {m} nodes delegated in {k} {part}; not delegated: {left or 'none'}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "delegate": self.delegate,
            "total_nodes": self.total_nodes,
            "delegated_nodes": len(self.delegated_nodes),
            "partitions": [list(p) for p in self.partitions],
            "not_delegated": [{"node": i, "op": op} for i, op in self.not_delegated],
            "summary": self.summary,
        }


def _op_counts(names: list[str]) -> str:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(f"{k} x{v}" if v > 1 else k for k, v in counts.items())


def partition_of(interp, delegate: str) -> PartitionInfo:
    """Delegate kernels appear as extra nodes named DELEGATE after the model's own nodes; their inputs and
    outputs are the partition's boundary. Walk back from each kernel's outputs to its inputs through the
    original producers to find the nodes it replaced."""
    raw = interp._interpreter
    count = raw.NumNodes()
    names = [raw.NodeName(i) for i in range(count)]
    original = [i for i in range(count) if names[i] != "DELEGATE"]
    kernels = [i for i in range(count) if names[i] == "DELEGATE"]
    producer: dict[int, int] = {}
    for i in original:
        for t in raw.NodeOutputs(i):
            producer[int(t)] = i
    partitions: list[list[int]] = []
    taken: set[int] = set()
    for k in kernels:
        boundary = {int(t) for t in raw.NodeInputs(k)}
        stack = [int(t) for t in raw.NodeOutputs(k)]
        members: set[int] = set()
        seen: set[int] = set()
        while stack:
            t = stack.pop()
            if t in seen or t in boundary or t < 0:
                continue
            seen.add(t)
            p = producer.get(t)
            if p is None or p in members:
                continue
            members.add(p)
            stack.extend(int(x) for x in raw.NodeInputs(p))
        partitions.append(sorted(members))
        taken |= members
    not_delegated = [(i, names[i]) for i in original if i not in taken]
    return PartitionInfo(len(original), sorted(taken), partitions, not_delegated, delegate)
