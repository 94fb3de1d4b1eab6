"""Translation tasks: (problem, source language, target language), and the license gate for training.

A task is judgeable when the problem has a reference solution in the source language (what the
model reads) and tests that can judge the target (stdio tests, or a harness in the target language).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from oorl.langs import canonical_language
from oorl.tasks.multipl_e import EvalOnlyError, refuse_eval_only
from oorl.tasks.schema import Problem

__all__ = ["EvalOnlyError", "TranslationTask", "ensure_trainable", "make_task", "make_tasks", "parse_pairs"]


class TranslationTask(BaseModel):
    """Translate `problem.solutions[source_lang]` into `target_lang`, judged by the problem's tests."""

    model_config = ConfigDict(frozen=True)

    problem: Problem
    source_lang: str = Field(description="the language the model reads (registry name)")
    target_lang: str = Field(description="the language the model writes (registry name)")

    @field_validator("source_lang", "target_lang")
    @classmethod
    def _canonical(cls, value: str) -> str:
        return canonical_language(value)

    @computed_field
    @property
    def id(self) -> str:
        return f"{self.problem.id}:{self.source_lang}->{self.target_lang}"

    @property
    def source_code(self) -> str:
        return self.problem.solutions[self.source_lang]

    @property
    def reference(self) -> str | None:
        """The target-language reference solution, when the problem has one."""
        return self.problem.solutions.get(self.target_lang)

    @property
    def target_declaration(self) -> str | None:
        """The target function's declaration shown in the prompt (harness problems only)."""
        h = self.problem.harness.get(self.target_lang)
        if h is None:
            return None
        decl = h.declaration if h.declaration is not None else h.prompt
        return decl.strip() or None


def make_task(problem: Problem, source_lang: str, target_lang: str) -> TranslationTask | None:
    """The task, or None when the problem lacks the source solution or cannot judge the target."""
    src, tgt = canonical_language(source_lang), canonical_language(target_lang)
    if src == tgt or src not in problem.solutions or not problem.judgeable(tgt):
        return None
    return TranslationTask(problem=problem, source_lang=src, target_lang=tgt)


def make_tasks(problems: Iterable[Problem], pairs: Iterable[tuple[str, str]]) -> list[TranslationTask]:
    """Every judgeable (problem, pair) task, problems in order and pairs in order within a problem."""
    pairs = [(canonical_language(s), canonical_language(t)) for s, t in pairs]
    return [task for p in problems for s, t in pairs if (task := make_task(p, s, t)) is not None]


def ensure_trainable(problems: Iterable[Problem]) -> None:
    """Refuse evaluation-only problems (MultiPL-E's license forbids training on it) in anything that
    builds training data; raises `EvalOnlyError` with the license."""
    refuse_eval_only(list(problems), "a training set")


def parse_pairs(spec: str) -> list[tuple[str, str]]:
    """`"python:cpp,cpp:java"` -> [("python", "cpp"), ("cpp", "java")] in registry names."""
    pairs = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if item.count(":") != 1:
            raise ValueError(f"bad language pair {item!r}: expected SOURCE:TARGET, e.g. python:cpp")
        s, t = item.split(":")
        pairs.append((canonical_language(s), canonical_language(t)))
    if not pairs:
        raise ValueError("no language pairs given")
    return pairs
