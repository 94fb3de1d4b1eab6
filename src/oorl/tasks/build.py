"""Training task sets: problems x language pairs -> de-duplicated tasks, split by problem.

- License gate: evaluation-only problems (MultiPL-E) are refused before anything else.
- De-duplication: tasks whose normalised source code (whitespace collapsed, blank lines dropped) has
  the same hash for the same language pair are kept once (the first one).
- Split: problems that share a normalised solution are one group, and each group goes wholly to
  train or to test (no problem, nor a copy of it, on both sides); the groups are shuffled with
  `seed` and the first `round(test_fraction * groups)` are the test split.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from oorl.tasks.schema import Problem
from oorl.tasks.translation import TranslationTask, ensure_trainable, make_tasks


class SplitTask(TranslationTask):
    """A row of a built task file."""

    split: Literal["train", "test"]


def code_hash(code: str) -> str:
    """sha256 of the code with whitespace runs collapsed and blank lines dropped."""
    lines = [re.sub(r"\s+", " ", ln).strip() for ln in code.splitlines()]
    return hashlib.sha256("\n".join(ln for ln in lines if ln).encode()).hexdigest()


def _groups(problems: Sequence[Problem]) -> dict[str, str]:
    """problem id -> group id; problems sharing any normalised solution are in one group."""
    parent: dict[str, str] = {p.id: p.id for p in problems}

    def find(a: str) -> str:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    owner: dict[str, str] = {}
    for p in problems:
        for code in p.solutions.values():
            h = code_hash(code)
            if h in owner:
                parent[find(p.id)] = find(owner[h])
            else:
                owner[h] = p.id
    return {pid: find(pid) for pid in parent}


def build_tasks(
    problems: Sequence[Problem],
    pairs: Sequence[tuple[str, str]],
    *,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> list[SplitTask]:
    """Tasks for every judgeable (problem, pair), de-duplicated and split into train and test."""
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    ensure_trainable(problems)
    unique: dict[str, Problem] = {}
    for p in problems:
        unique.setdefault(p.id, p)  # the same problem from two sources counts once
    problems = list(unique.values())

    seen: set[tuple[str, str, str]] = set()
    tasks: list[TranslationTask] = []
    for task in make_tasks(problems, pairs):
        key = (code_hash(task.source_code), task.source_lang, task.target_lang)
        if key not in seen:
            seen.add(key)
            tasks.append(task)

    group_of = _groups(problems)
    groups = sorted({group_of[t.problem.id] for t in tasks})
    random.Random(seed).shuffle(groups)
    test = set(groups[: round(test_fraction * len(groups))])
    return [
        SplitTask(
            problem=t.problem,
            source_lang=t.source_lang,
            target_lang=t.target_lang,
            split="test" if group_of[t.problem.id] in test else "train",
        )
        for t in tasks
    ]


def pair_counts(tasks: Sequence[SplitTask]) -> dict[tuple[str, str], Counter]:
    """(source, target) -> Counter of splits."""
    counts: dict[tuple[str, str], Counter] = {}
    for t in tasks:
        counts.setdefault((t.source_lang, t.target_lang), Counter())[t.split] += 1
    return counts
