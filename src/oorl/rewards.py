"""Completion -> reward, through the sandbox: OORL's rule-based unit-test reward.

Paper (Wu et al., NeurIPS 2025, section 3): R(q, o) = 1 if the completion o follows the required
format (exactly one fenced code block, here also: closed, tagged with the target language if tagged)
AND the extracted code compiles AND it passes every unit test; else 0. With `partial_credit` the
reward is the fraction of tests passed instead (format and compilation still gate it), as in
SYNTHETIC-1's genesys verifier; the paper uses the binary reward.

A `sandbox_error` is infrastructure failure: it is retried, and if it persists the result carries
`reward=None` and `sandbox_error=True`; it is never turned into a zero reward.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from oorl.sandbox.types import JudgeResult, Limits, Verdict
from oorl.tasks.answers import assemble_solution, extract_code
from oorl.tasks.translation import TranslationTask


class RewardResult(BaseModel):
    """The reward for one completion and why."""

    reward: float | None = Field(
        description="1.0/0.0 (or a fraction with partial credit); None on sandbox error"
    )
    format_ok: bool = Field(
        description="exactly one closed fenced block, tagged with the target language if tagged"
    )
    compiled: bool = Field(
        False, description="the extracted code compiled (always true for interpreted languages)"
    )
    passed: int = Field(0, description="tests passed")
    total: int = Field(0, description="tests run (harness problems count as one test)")
    verdict: Verdict | None = Field(None, description="the sandbox verdict; None when the format failed")
    sandbox_error: bool = Field(False, description="the sandbox kept failing: no reward was computed")
    detail: str = Field(
        "", description="why the reward is not 1: format reason, compile output or first failure"
    )


def _detail(result: JudgeResult) -> str:
    if result.compile is not None and not result.compile.ok:
        return result.compile.output[-1000:]
    for t in result.tests:
        if t.verdict is not Verdict.ACCEPTED:
            return (t.detail or t.stderr or t.stdout)[-1000:]
    return result.detail


def reward_from_result(result: JudgeResult, *, partial_credit: bool = False) -> RewardResult:
    """The reward of a judged, well-formatted completion."""
    if result.verdict is Verdict.SANDBOX_ERROR:
        return RewardResult(
            reward=None,
            format_ok=True,
            verdict=result.verdict,
            sandbox_error=True,
            passed=result.passed,
            total=result.total,
            detail=result.detail,
        )
    compiled = result.verdict is not Verdict.COMPILE_ERROR
    if not compiled:
        reward = 0.0
    elif partial_credit:
        reward = result.passed / result.total if result.total else float(result.accepted)
    else:
        reward = float(result.accepted)
    return RewardResult(
        reward=reward,
        format_ok=True,
        compiled=compiled,
        passed=result.passed,
        total=result.total,
        verdict=result.verdict,
        detail="" if result.accepted else _detail(result),
    )


def score_completions(
    sandbox,
    tasks: Sequence[TranslationTask],
    completions: Sequence[str],
    *,
    partial_credit: bool = False,
    retries: int = 2,
    limits: Limits | None = None,
) -> list[RewardResult]:
    """Rewards for `completions[i]` as answers to `tasks[i]`, judged in one batch over the sandbox pool.

    A completion that breaks the format is not run (reward 0). Requests that end in
    `sandbox_error` are judged again, up to `retries` more times.
    """
    if len(tasks) != len(completions):
        raise ValueError(f"{len(tasks)} tasks but {len(completions)} completions")
    out: list[RewardResult | None] = [None] * len(tasks)
    requests, where = [], []
    for i, (task, completion) in enumerate(zip(tasks, completions, strict=True)):
        ex = extract_code(completion, task.target_lang)
        if not ex.format_ok:
            out[i] = RewardResult(reward=0.0, format_ok=False, detail=ex.reason)
            continue
        code = assemble_solution(task.problem, task.target_lang, ex.code)
        req = task.problem.request(task.target_lang, code, limits)
        requests.append(req.model_copy(update={"stop_on_failure": not partial_credit}))
        where.append(i)

    results = sandbox.judge_many(requests) if requests else []
    for _ in range(retries):
        again = [k for k, r in enumerate(results) if r.verdict is Verdict.SANDBOX_ERROR]
        if not again:
            break
        for k, r in zip(again, sandbox.judge_many([requests[k] for k in again]), strict=True):
            results[k] = r
    for i, r in zip(where, results, strict=True):
        out[i] = reward_from_result(r, partial_credit=partial_credit)
    return out  # type: ignore[return-value]
