"""Per-operator validity and inequivalence rates of a group file (and its skipped-sources sidecar)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from oorl.ir.schema import IRGroup, OperatorCounts, Skipped
from oorl.jsonl import read_jsonl


def skipped_path(out: str | os.PathLike) -> Path:
    """The sidecar that lists sources without a group: `G.jsonl` -> `G.skipped.jsonl`."""
    out = Path(out)
    return out.with_name(out.name.removesuffix(".jsonl") + ".skipped.jsonl")


@dataclass
class GroupStats:
    groups: int = 0
    winners: int = 0
    losers: int = 0
    ir_chars: int = 0
    skipped: Counter = field(default_factory=Counter)
    operators: dict[str, OperatorCounts] = field(default_factory=dict)
    losers_by_operator: Counter = field(default_factory=Counter)
    witness_kinds: Counter = field(default_factory=Counter)

    def add_counts(self, counts: dict[str, OperatorCounts]) -> None:
        for op, c in counts.items():
            t = self.operators.setdefault(op, OperatorCounts())
            t.attempted += c.attempted
            t.valid += c.valid
            t.executed += c.executed
            t.witnessed += c.witnessed
            for k, v in c.unconfirmed.items():
                t.unconfirmed[k] = t.unconfirmed.get(k, 0) + v
            for k, v in c.kinds.items():
                t.kinds[k] = t.kinds.get(k, 0) + v


def collect(path: str | os.PathLike) -> GroupStats:
    s = GroupStats()
    for g in read_jsonl(path, IRGroup):
        s.groups += 1
        s.winners += len(g.winners)
        s.losers += len(g.losers)
        s.ir_chars += sum(len(w.ir) for w in g.winners) + sum(len(lo.ir) for lo in g.losers)
        s.add_counts(
            {k: OperatorCounts.model_validate(v) for k, v in g.provenance.get("operators", {}).items()}
        )
        for lo in g.losers:
            s.losers_by_operator[lo.operator] += 1
            s.witness_kinds[lo.witness.kind] += 1
    side = skipped_path(path)
    if side.exists():
        for sk in read_jsonl(side, Skipped):
            s.skipped[sk.reason] += 1
            s.add_counts(sk.operators)
    return s


def rate(num: int, den: int) -> str:
    return f"{100 * num / den:.0f}%" if den else "-"
