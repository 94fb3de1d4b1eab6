"""HumanEval-X's known defective items: the one list every HumanEval-X bench reads.

An item listed here cannot be judged fairly, whatever the model writes, so a bench leaves it out
and the report lists it as an excluded data defect (never a silent drop). Sources: the measurements
in `oorl/data/humaneval-x/README.md` ("Known defects" and "Local validation").

`scope` says which benches a defect touches:
- "all": the item's canonical solution fails its own tests, or its tests cannot run here. In a
  translation bench the item is excluded when the language is the source (a faithful translation of
  a wrong program fails) or the target.
- "declaration": the `declaration` field is broken; only the translation bench shows it (as the
  source's declaration + canonical solution, or as the target declaration the model must implement).
- "generation": only the generation bench cannot judge it (its completions are cut where the
  function closes, CodeGeeX's stopping rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Defect:
    language: str
    index: int
    scope: Literal["all", "declaration", "generation"]
    reason: str

    @property
    def problem_id(self) -> str:
        return f"HumanEval/{self.index}"


HUMANEVAL_X_DEFECTS: tuple[Defect, ...] = (
    Defect("javascript", 112, "all", "canonical solution returns a comma expression, not an array"),
    Defect("javascript", 155, "all", "canonical solution returns [0,0] for 0; the test expects [1,0]"),
    Defect("javascript", 162, "all", "the test needs the js-md5 npm module, absent from the sandbox"),
    Defect("rust", 32, "all", "the whole test is commented out: anything that compiles passes"),
    Defect("rust", 38, "all", "the canonical solution needs the rand crate (no crates offline)"),
    Defect("rust", 50, "all", "the canonical solution needs the rand crate (no crates offline)"),
    Defect("rust", 53, "all", "the canonical solution needs the rand crate (no crates offline)"),
    Defect("rust", 91, "all", "the canonical solution needs the regex crate (no crates offline)"),
    Defect("rust", 162, "all", "the canonical solution needs the md5 crate (no crates offline)"),
    Defect(
        "go", 72, "generation", "the canonical solution defines its helper after the function, past the cut"
    ),
    Defect("go", 10, "declaration", "declaration lacks the IsPalindrome helper the tests call"),
    Defect("go", 32, "declaration", "declaration lacks the Poly helper the tests call"),
    Defect("go", 38, "declaration", "declaration lacks the EncodeCyclic helper the tests call"),
    Defect("go", 50, "declaration", "declaration lacks the EncodeShift helper the tests call"),
    Defect("cpp", 38, "declaration", "declaration holds part of decode_cyclic's body (duplicated code)"),
    Defect("python", 142, "declaration", 'declaration holds a stray `"` line'),
)


def generation_defects(language: str) -> dict[str, str]:
    """problem id -> reason, for items a generation bench in `language` excludes."""
    return {
        d.problem_id: d.reason
        for d in HUMANEVAL_X_DEFECTS
        if d.language == language and d.scope in ("all", "generation")
    }


def translation_defects(language: str) -> dict[str, str]:
    """problem id -> reason, for items a translation bench excludes when `language` is its source
    or its target."""
    return {
        d.problem_id: d.reason
        for d in HUMANEVAL_X_DEFECTS
        if d.language == language and d.scope in ("all", "declaration")
    }
