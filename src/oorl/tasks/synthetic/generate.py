"""Verified parallel programs: generate, render in 13 languages, judge every rendering, emit Problems.

Pipeline for `n` problems with seed `seed`:
1. candidate k draws a program and its test inputs from `random.Random(f"oorl-synth:{seed}:{k}")`;
   the reference interpreter rejects programs whose intermediates leave the safe 32-bit range on a
   test input, and programs whose outputs are the same on every input (they test nothing);
2. the expected outputs are the interpreter's, and they are confirmed by running the Python
   rendering in the sandbox (it is generated code: it never runs outside the sandbox);
3. every rendering is judged in the sandbox on those tests; any disagreement is a generator bug and
   raises `SynthesisError` naming the problem, the language and the verdict.
The same seed gives the same problems (candidates are drawn in order; only the interpreter rejects).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from oorl.sandbox.types import Checker, JudgeResult, StdioTest
from oorl.tasks.schema import Problem, Provenance
from oorl.tasks.synthetic.program import GenConfig, Generator, OutOfRange, interpret, random_input
from oorl.tasks.synthetic.render import RENDERERS, render_all

LANGUAGES = tuple(RENDERERS)
INPUT_FORMAT = (
    "Input: a line with two integers x and y; a line with n (n >= 1); a line with n integers a; "
    "a line with one lowercase word s. Output: the integers the program computes, one per line"
)


class SynthesisError(RuntimeError):
    """A rendering disagreed with the reference: a bug in the generator or a renderer."""


def candidate(seed: int, k: int, cfg: GenConfig = GenConfig(), n_tests: int = 5) -> Problem | None:
    """Candidate `k` of `seed` as an unverified Problem, or None when the interpreter rejects it."""
    rng = random.Random(f"oorl-synth:{seed}:{k}")
    program = Generator(rng, cfg).program()
    inputs = [random_input(rng) for _ in range(n_tests)]
    try:
        outputs = [interpret(program, stdin) for stdin in inputs]
    except OutOfRange:
        return None
    if len(set(outputs)) < 2:
        return None
    return Problem(
        id=f"synthetic/{seed}/{k}",
        provenance=Provenance(
            dataset="synthetic",
            source_id=f"{seed}:{k}",
            license="Apache-2.0",
            generator="oorl.tasks.synthetic",
            seed=seed,
            candidate=k,
        ),
        description=INPUT_FORMAT + (", then s reversed." if program.print_reversed else "."),
        solutions=render_all(program),
        tests=[StdioTest(stdin=i, expected=o) for i, o in zip(inputs, outputs, strict=True)],
        checker=Checker(mode="exact"),
    )


def candidates(n: int, seed: int, cfg: GenConfig = GenConfig(), n_tests: int = 5) -> list[Problem]:
    """The first `n` candidates of `seed` that the interpreter accepts, without duplicate programs."""
    out: list[Problem] = []
    seen: set[str] = set()
    k = 0
    while len(out) < n:
        p = candidate(seed, k, cfg, n_tests)
        k += 1
        if p is not None and p.solutions["python"] not in seen:
            seen.add(p.solutions["python"])
            out.append(p)
    return out


def _describe_failure(problem: Problem, language: str, result: JudgeResult) -> str:
    detail = f"{problem.id} [{language}]: {result.verdict.value}"
    if result.compile is not None and not result.compile.ok:
        detail += f"\n  compile output: {result.compile.output[-800:]}"
    for t in result.tests:
        if t.verdict.value != "accepted":
            detail += f"\n  stdin {t.stdin!r}\n  expected {t.expected!r}\n  got {t.stdout!r}\n  stderr {t.stderr[-400:]!r}"
            break
    return detail


def verify(
    sandbox,
    problems: Sequence[Problem],
    languages: Sequence[str] = LANGUAGES,
    *,
    progress: bool | str = False,
) -> dict[str, float]:
    """Judge every rendering of every problem; raise SynthesisError on any disagreement.

    Returns the sandbox time spent per language (seconds, summed over problems).
    """
    pairs = [(p, lang) for p in problems for lang in languages]
    results = sandbox.judge_many([p.request(lang, p.solutions[lang]) for p, lang in pairs], progress=progress)
    failures = [
        _describe_failure(p, lang, r) for (p, lang), r in zip(pairs, results, strict=True) if not r.accepted
    ]
    if failures:
        shown = "\n".join(failures[:10])
        more = f"\n... and {len(failures) - 10} more" if len(failures) > 10 else ""
        raise SynthesisError(f"{len(failures)} rendering(s) disagree with the reference:\n{shown}{more}")
    seconds = dict.fromkeys(languages, 0.0)
    for (_, lang), r in zip(pairs, results, strict=True):
        seconds[lang] += r.time_s
    return seconds


def synthesize(
    sandbox,
    n: int,
    seed: int = 0,
    *,
    cfg: GenConfig = GenConfig(),
    n_tests: int = 5,
    languages: Sequence[str] = LANGUAGES,
    progress: bool | str = False,
) -> list[Problem]:
    """`n` verified problems: every rendering in `languages` passes the tests in the sandbox."""
    problems = candidates(n, seed, cfg, n_tests)
    verify(sandbox, problems, languages, progress=progress)
    if tuple(languages) != LANGUAGES:
        problems = [
            p.model_copy(update={"solutions": {lg: p.solutions[lg] for lg in languages}}) for p in problems
        ]
    return problems
