"""Where C sources come from: translation problems (their C solution + stdio test inputs), C files
(function-level, with a generated driver), and SLTrans (IRCoder's source/IR pairs, whole programs)."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from oorl.jsonl import read_jsonl
from oorl.tasks.schema import Problem


@dataclass
class CSource:
    """One source to build a group from.

    `inputs` are stdin strings for whole programs (empty for function-level sources, whose inputs
    the driver generator makes); `expected` the reference outputs where the source has tests.
    """

    id: str
    source: str
    kind: Literal["program", "functions"]
    inputs: list[str] = field(default_factory=list)
    expected: list[str] | None = None
    origin: dict = field(default_factory=dict)
    extra_winners: dict[str, str] = field(default_factory=dict)  # label -> raw IR from the dataset

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def from_problems(path: str | os.PathLike, language: str = "c") -> Iterator[CSource]:
    """Problems with a C solution; their stdio tests' stdin are the inputs, their outputs the check."""
    for p in read_jsonl(path, Problem):
        code = p.solutions.get(language)
        if code is None:
            continue
        yield CSource(
            id=p.id,
            source=code,
            kind="program",
            inputs=[t.stdin for t in p.tests],
            expected=[t.expected for t in p.tests] if all(t.expected is not None for t in p.tests) else None,
            origin={"dataset": p.provenance.dataset, "problem_id": p.id, "license": p.provenance.license},
        )


def from_c_files(paths: list[str | os.PathLike]) -> Iterator[CSource]:
    """Function-level C files (no `main`): the id is `fn-` + the file's stem."""
    for path in map(Path, paths):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such C file")
        yield CSource(
            id=f"fn-{path.stem}",
            source=path.read_text(encoding="utf-8"),
            kind="functions",
            origin={"file": path.name},
        )


def generic_stdin(n: int, seed: int) -> list[str]:
    """Inputs for whole programs that come without tests (SLTrans): a count, then small integers.

    Most contest programs read integers; with no tests this is the best blind guess, and a program
    it does not suit shows up as a source that crashes or hangs (skipped and counted).
    """
    rng = random.Random(seed)
    out = []
    for k in range(n):
        m = rng.randint(1, 6) if k else 2
        out.append(f"{m}\n" + " ".join(str(rng.randint(-20, 50)) for _ in range(m)) + "\n")
    return out


def from_sltrans(
    data_files: str | list[str] | None = None,
    *,
    split: str = "Perf_Optimized",
    config: str = "C",
    n_inputs: int = 8,
    cache_dir: str | None = None,
) -> Iterator[CSource]:
    """SLTrans rows via `datasets.load_dataset` (fields `Source_Code`, `IR_Original`).

    `data_files`: local JSONL copies (as in the tests); None loads `UKPLab/SLTrans` from the hub.
    The dataset holds one IR per split (-O3 for Perf_Optimized, -Oz for Size_Optimized); the other
    levels are recompiled from the source, and the dataset's IR joins the winners only if it
    verifies under LLVM 14 and behaves like the source.
    """
    from datasets import load_dataset

    if data_files is not None:
        ds = load_dataset("json", data_files=data_files, split="train", cache_dir=cache_dir)
    else:
        ds = load_dataset("UKPLab/SLTrans", config, split=split, cache_dir=cache_dir)
    label = {"Perf_Optimized": "sltrans-O3", "Size_Optimized": "sltrans-Oz"}.get(split, f"sltrans-{split}")
    for i, row in enumerate(ds):
        src = row["Source_Code"]
        sha = hashlib.sha256(src.encode()).hexdigest()
        yield CSource(
            id=f"sltrans-{config}-{split}-{sha[:12]}",
            source=src,
            kind="program",
            inputs=generic_stdin(n_inputs, seed=i),
            origin={
                "dataset": "UKPLab/SLTrans",
                "config": config,
                "split": split,
                "row": i,
                "license": "cc-by-sa-4.0",
            },
            extra_winners={label: row["IR_Original"]} if row.get("IR_Original") else {},
        )
