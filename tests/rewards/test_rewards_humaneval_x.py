"""The unit-test reward on HumanEval-X translation tasks, judged in the sandbox."""

from __future__ import annotations

import pytest

from oorl.rewards import RewardResult, score_completions
from oorl.sandbox.types import JudgeResult, Verdict
from oorl.tasks.humaneval_x import load_humaneval_x
from oorl.tasks.schema import Problem, Provenance
from oorl.tasks.translation import TranslationTask

TARGETS = ["python", "cpp", "java", "javascript", "go", "rust"]


@pytest.fixture(scope="module")
def problem() -> Problem:
    problems = load_humaneval_x(TARGETS)
    return next(p for p in problems if p.id == "HumanEval/0")


def _task(problem: Problem, source: str, target: str) -> TranslationTask:
    return TranslationTask(problem=problem, source_lang=source, target_lang=target)


def _fenced(tag: str, code: str) -> str:
    return f"Here is the translation.\n\n```{tag}\n{code.rstrip()}\n```\n"


def test_canonical_solutions_in_a_correct_fence_score_one(sandbox, problem):
    tasks = [_task(problem, "python" if t != "python" else "cpp", t) for t in TARGETS]
    tags = {"python": "python", "cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust"}
    completions = [_fenced(tags[t.target_lang], problem.solutions[t.target_lang]) for t in tasks]
    results = score_completions(sandbox, tasks, completions)
    report = {
        t.target_lang: (r.reward, r.verdict, r.detail[:200]) for t, r in zip(tasks, results, strict=True)
    }
    assert all(r.reward == 1.0 and r.format_ok and r.compiled for r in results), report


def test_missing_imports_are_supplied_by_assembly(sandbox, problem):
    # the model wrote only the function: `List` comes from the harness prompt's import
    body = problem.solutions["python"].split("def has_close_elements", 1)[1]
    code = "def has_close_elements" + body
    assert "from typing import List" not in code
    [r] = score_completions(sandbox, [_task(problem, "cpp", "python")], [_fenced("python", code)])
    assert r.reward == 1.0, r.detail


def test_a_standalone_go_file_is_assembled_with_the_harness_setup(sandbox, problem):
    # the model writes a whole file: its package clause and imports must not clash with the harness
    func = problem.solutions["go"][problem.solutions["go"].index("func HasCloseElements") :]
    code = 'package main\n\nimport (\n\t"fmt"\n\t"math"\n)\n\n' + func.replace(
        "return true", "_ = fmt.Sprint()\n return true", 1
    )
    [r] = score_completions(sandbox, [_task(problem, "python", "go")], [_fenced("go", code)])
    assert r.reward == 1.0, r.detail


def test_failures_score_zero_with_diagnostics(sandbox, problem):
    task = _task(problem, "python", "cpp")
    good = problem.solutions["cpp"]
    broken = good.replace("return false;", "return false")  # missing semicolon
    wrong = good.replace("return true;", "return false;", 1)
    completions = [
        _fenced("python", good),  # a block in the wrong language
        "```cpp\n" + good[: len(good) // 2],  # cut off by the token limit
        _fenced("cpp", broken),
        _fenced("cpp", wrong),
    ]
    wrong_lang, unterminated, compile_error, wrong_answer = score_completions(
        sandbox, [task] * 4, completions
    )

    assert (wrong_lang.reward, wrong_lang.format_ok, wrong_lang.verdict) == (0.0, False, None)
    assert "python" in wrong_lang.detail
    assert (unterminated.reward, unterminated.format_ok) == (
        0.0,
        False,
    ) and "unterminated" in unterminated.detail
    assert (compile_error.reward, compile_error.format_ok, compile_error.compiled) == (0.0, True, False)
    assert compile_error.verdict is Verdict.COMPILE_ERROR and "error" in compile_error.detail
    assert (wrong_answer.reward, wrong_answer.compiled) == (0.0, True)
    assert wrong_answer.verdict is Verdict.WRONG_ANSWER


def test_partial_credit_is_the_fraction_of_tests(sandbox):
    p = Problem(
        id="double",
        provenance=Provenance(dataset="t"),
        solutions={"cpp": ""},
        tests=[
            {"stdin": "2\n", "expected": "4\n"},
            {"stdin": "0\n", "expected": "0\n"},
            {"stdin": "5\n", "expected": "10\n"},
            {"stdin": "1\n", "expected": "2\n"},
        ],
    )
    task = TranslationTask(problem=p, source_lang="cpp", target_lang="python")
    code = _fenced("python", "x = int(input())\nprint(x * 2 if x % 2 == 0 else x)")  # right on even inputs
    binary, partial = (
        score_completions(sandbox, [task], [code], partial_credit=pc)[0] for pc in (False, True)
    )
    assert binary.reward == 0.0 and binary.verdict is Verdict.WRONG_ANSWER
    assert partial.reward == 0.5 and (partial.passed, partial.total) == (2, 4)


class _FlakySandbox:
    """Answers sandbox_error `failures` times per request, then accepted."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def judge_many(self, requests, progress=False):
        self.calls += 1
        verdict = Verdict.SANDBOX_ERROR if self.calls <= self.failures else Verdict.ACCEPTED
        return [
            JudgeResult(verdict=verdict, passed=int(verdict is Verdict.ACCEPTED), total=1) for _ in requests
        ]


@pytest.mark.parametrize("failures, expected", [(2, 1.0), (3, None)])
def test_sandbox_errors_are_retried_and_never_a_zero(problem, failures, expected):
    sb = _FlakySandbox(failures)
    [r] = score_completions(
        sb, [_task(problem, "python", "cpp")], [_fenced("cpp", "int main(){}")], retries=2
    )
    assert isinstance(r, RewardResult) and r.reward == expected and sb.calls == min(failures + 1, 3)
    assert r.sandbox_error is (expected is None)
