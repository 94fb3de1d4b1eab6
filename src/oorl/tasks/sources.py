"""Problem sources by name, as `oorl data build --source` spells them.

synthetic              the bundled verified synthetic set (oorl/data/synthetic/problems.jsonl)
humaneval-x            the bundled HumanEval-X copy (or humaneval-x:PATH_OR_ID)
apps[:PATH_OR_ID]      APPS (default hub mirror, split from --split)
taco[:PATH_OR_ID]      TACO
synthetic-1[:PATH_OR_ID]  SYNTHETIC-1 verifiable-coding-problems
jsonl:PATH             Problems as JSON Lines (the `Problem` schema)
multipl-e[:PATH]       MultiPL-E: evaluation only, every training builder refuses it
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from oorl.jsonl import read_jsonl
from oorl.tasks.schema import Problem

SOURCE_NAMES = ("synthetic", "humaneval-x", "apps", "taco", "synthetic-1", "jsonl", "multipl-e")


def bundled_synthetic_path() -> Path:
    return Path(str(resources.files("oorl") / "data" / "synthetic" / "problems.jsonl"))


def load_bundled_synthetic() -> list[Problem]:
    """The verified synthetic problems shipped with oorl (24 problems, seed 0, 13 languages)."""
    return read_jsonl(bundled_synthetic_path(), Problem)


def load_problems_jsonl(path: str | Path) -> list[Problem]:
    """Problems from JSON Lines; a malformed row raises JsonlError naming file, line and field."""
    return read_jsonl(path, Problem)


def load_source(spec: str, *, split: str | None = None) -> list[Problem]:
    """The problems of one `--source` spec (see the module docstring)."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name == "synthetic":
        return load_problems_jsonl(arg) if arg else load_bundled_synthetic()
    if name == "humaneval-x":
        from oorl.tasks.humaneval_x import load_humaneval_x

        return load_humaneval_x(path=arg or None)
    if name == "apps":
        from oorl.tasks.apps import APPS_HUB_ID, load_apps

        return load_apps(arg or APPS_HUB_ID, split or "train")
    if name == "taco":
        from oorl.tasks.apps import TACO_HUB_ID, load_taco

        return load_taco(arg or TACO_HUB_ID, split or "train")
    if name == "synthetic-1":
        from oorl.tasks.synthetic1 import HUB_ID, load_synthetic1

        return load_synthetic1(arg or HUB_ID, split or "train")
    if name == "jsonl":
        if not arg:
            raise ValueError("source 'jsonl' needs a path: jsonl:PATH")
        return load_problems_jsonl(arg)
    if name == "multipl-e":
        from oorl.tasks.multipl_e import load_multipl_e

        return load_multipl_e(path=arg or None)
    raise ValueError(f"unknown source {spec!r}; known sources: {', '.join(SOURCE_NAMES)}")
