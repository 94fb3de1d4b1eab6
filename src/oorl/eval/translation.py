"""Held-out translation pass@k, scored by the same reward function (sandbox call, prompt, answer
extraction) that training uses, so a gain cannot come from a mismatch between the two."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from oorl.config import EvalSettings
from oorl.eval.passk import estimate_pass_at_k
from oorl.tasks.prompts import render_prompt
from oorl.tasks.translation import TranslationTask


@dataclass
class TranslationEval:
    """pass@1 overall and per target language, over `n_tasks` tasks with `n` samples each."""

    pass_at_1: float
    per_language: dict[str, float]
    format_rate: float
    n_tasks: int
    n_samples: int
    sandbox_errors: int = 0
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # task id -> (n, c)

    def to_dict(self) -> dict:
        return {
            "pass_at_1": self.pass_at_1,
            "per_language": self.per_language,
            "format_rate": self.format_rate,
            "n_tasks": self.n_tasks,
            "n_samples": self.n_samples,
            "sandbox_errors": self.sandbox_errors,
        }


def evaluate_translation(
    model,
    tokenizer,
    tasks: Sequence[TranslationTask],
    reward_fn: Callable[[list[TranslationTask], list[str]], Sequence],
    settings: EvalSettings,
    *,
    progress: bool = False,
    label: str = "eval",
    seed: int = 0,
) -> TranslationEval:
    """Greedy pass@1 when `n_samples == 1`, else the unbiased pass@1 estimate from `n_samples`
    samples at `temperature`.

    Sampling is seeded (`seed`) inside a forked RNG, so an evaluation neither depends on nor
    disturbs the caller's random state.
    """
    import torch
    from rich.progress import Progress

    from oorl.rollout import make_backend

    if not tasks:
        raise ValueError("no tasks to evaluate")
    backend = make_backend("hf", model, tokenizer)
    n = settings.n_samples
    correct: dict[str, int] = defaultdict(int)
    formatted = sandbox_errors = 0
    with Progress(disable=not progress) as bar, torch.random.fork_rng():
        torch.manual_seed(seed)
        job = bar.add_task(label, total=len(tasks))
        for start in range(0, len(tasks), settings.batch_size):
            chunk = list(tasks[start : start + settings.batch_size])
            batch = backend.generate(
                [render_prompt(t, tokenizer) for t in chunk],
                n=n,
                greedy=n == 1,
                temperature=settings.temperature,
                max_new_tokens=settings.max_new_tokens,
            )
            expanded = [t for t in chunk for _ in range(n)]
            for task, result in zip(expanded, reward_fn(expanded, batch.texts), strict=True):
                # a sandbox error (reward None) is not a pass; it is counted and reported apart
                correct[task.id] += int((result.reward or 0.0) > 0)
                sandbox_errors += int(result.reward is None)
                formatted += int(result.format_ok)
            bar.update(job, advance=len(chunk))
    counts = {t.id: (n, correct[t.id]) for t in tasks}
    per_task = {t.id: estimate_pass_at_k(n, correct[t.id], 1) for t in tasks}
    by_lang: dict[str, list[float]] = defaultdict(list)
    for t in tasks:
        by_lang[t.target_lang].append(per_task[t.id])
    return TranslationEval(
        pass_at_1=sum(per_task.values()) / len(tasks),
        per_language={lang: sum(v) / len(v) for lang, v in sorted(by_lang.items())},
        format_rate=formatted / (len(tasks) * n),
        n_tasks=len(tasks),
        n_samples=n,
        sandbox_errors=sandbox_errors,
        counts=counts,
    )
