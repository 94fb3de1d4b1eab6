"""The problem schema shared by the sandbox's judge, the tasks, the rewards and evaluation.

A problem has reference solutions per language and tests of two kinds:
- stdio tests (language-agnostic: stdin -> expected stdout, as in APPS / TACO);
- a harness per language (as in MultiPL-E / HumanEval-X): `prompt` is what a model is given to
  continue (imports + declaration), `tests` is test code appended after the solution. A judged
  harness program is `setup + code + "\n" + tests`, where `code` is the full solution (prompt included).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oorl.langs import canonical_language
from oorl.sandbox.types import Checker, JudgeRequest, Limits, StdioTest


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow")

    dataset: str = Field(description="where the problem comes from, e.g. 'humaneval-x', 'synthetic'")
    source_id: str | None = Field(None, description="the id in the original dataset")
    license: str | None = None
    url: str | None = None
    # MultiPL-E's license forbids training on it: every training-set builder refuses such records.
    eval_only: bool = False


class Harness(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: str = Field("", description="what the model continues: imports and the target declaration")
    tests: str = Field(description="test code appended after the solution")
    setup: str = Field(
        "", description="code put before the solution (e.g. Go's package clause and test imports)"
    )
    declaration: str | None = Field(None, description="the bare signature, when it differs from the prompt")


class Problem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    provenance: Provenance
    description: str | None = None
    solutions: dict[str, str] = Field(default_factory=dict, description="language -> reference solution")
    tests: list[StdioTest] = Field(default_factory=list, description="stdio tests, any language")
    harness: dict[str, Harness] = Field(default_factory=dict, description="language -> harness")
    checker: Checker = Checker()

    @field_validator("solutions", "harness", mode="before")
    @classmethod
    def _canonical_keys(cls, value):
        if isinstance(value, dict):
            return {canonical_language(k): v for k, v in value.items()}
        return value

    def judgeable(self, language: str) -> bool:
        """Whether a solution in `language` can be tested: it has a harness, or the problem has stdio tests."""
        return canonical_language(language) in self.harness or bool(self.tests)

    def program(self, language: str, code: str) -> str:
        """The program to run for a solution `code`: the harness tests appended where the language has one."""
        h = self.harness.get(canonical_language(language))
        return code if h is None else f"{h.setup}{code}\n{h.tests}"

    def request(self, language: str, code: str, limits: Limits | None = None) -> JudgeRequest:
        """The sandbox request that judges `code` (a full solution) in `language` on this problem's tests."""
        return JudgeRequest(
            language=canonical_language(language),
            code=self.program(language, code),
            tests=[] if canonical_language(language) in self.harness else self.tests,
            checker=self.checker,
            limits=limits,
        )


class Solution(BaseModel):
    """A row of `oorl judge --solutions`: one program for one problem."""

    model_config = ConfigDict(extra="ignore")

    problem_id: str
    language: str
    code: str

    @field_validator("language")
    @classmethod
    def _canonical(cls, value: str) -> str:
        return canonical_language(value)
