"""The source's own behaviour on every input, and which inputs can serve as witnesses.

A witness says "the source does X on this input and the loser does not". X must be a fact of the
C program, not of one build or one run, so an input is kept only if:
- two plain runs (one after the other, each a fresh process) print and exit alike (else
  "nondeterministic");
- no sanitizer reports on it: ASan + UBSan in one build, MSan in another (the two exclude each
  other), i.e. no undefined behaviour, invalid memory access or use of uninitialised memory
  (else "undefined");
- every sanitized build behaves like the plain one (else "sanitizer_disagrees": a build-dependent
  result no check named, or a run past the sanitizer's time allowance).
The kept inputs carry the slowest plain run's wall time: a "timeout" witness is measured against it.

ASan and MSan reserve terabytes of address space for their shadow memory. Where the sandbox bounds
memory with a cgroup that costs nothing; where it falls back to RLIMIT_AS (no memory cgroup) they
cannot start, so the builds that work are probed once per sandbox and recorded in provenance. UBSan
needs no shadow memory: without it no group is built (`SanitizerUnavailable`).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

from oorl.ir.execute import MARK, Outcome, Program, Run, request, run_references
from oorl.ir.toolchain import ToolchainError

# Sanitized runs get this many times the input timeout: ASan and MSan slow a program 2-3x.
SANITIZER_SLOWDOWN = 4.0
# Builds tried in this order; "undefined" alone stands in for "address,undefined" where ASan cannot run.
SANITIZER_BUILDS = ("address,undefined", "undefined", "memory")

_probed: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class SanitizerUnavailable(ToolchainError):
    """clang cannot build or run a UBSan program in the sandbox (e.g. libclang-rt-14-dev is missing)."""


@dataclass(frozen=True)
class Reference:
    """The source on every input: `outcomes` for the inputs kept (seconds = slowest plain run),
    `dropped` input -> why it cannot serve, and the sanitizer builds that checked it."""

    outcomes: dict[int, Outcome]
    dropped: dict[int, str]
    sanitizers: tuple[str, ...]

    def drop_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for why in self.dropped.values():
            counts[why] = counts.get(why, 0) + 1
        return counts


def _probe_script() -> str:
    """Build and run an empty program with each sanitizer build (UBSan alone only if ASan fails)."""

    def probe(k: int) -> str:
        return (
            f"/usr/bin/clang-14 -O0 -fsanitize={SANITIZER_BUILDS[k]} p.c -o p{k} 2> /dev/null "
            f"&& ./p{k} < /dev/null > /dev/null 2>&1 && echo '{MARK} probe {k} ok'"
        )

    asan, ubsan, msan = range(3)
    return f"printf 'int main(void) {{ return 0; }}\\n' > p.c\n{{ {probe(asan)}; }} || {{ {probe(ubsan)}; }}\n{probe(msan)}\n"


def probe_sanitizers(sb, run_time_s: float = 60.0, *, setup: str = "") -> tuple[str, ...]:
    """The sanitizer builds that run in this sandbox: ASan + UBSan where ASan starts, else UBSan
    alone; MSan where it starts. `setup` is shell run first (a test bounds the address space with it)."""
    result = sb.judge(request(setup + _probe_script(), run_time_s))
    out = result.tests[0].stdout if result.tests else ""
    works = tuple(flags for k, flags in enumerate(SANITIZER_BUILDS) if f"{MARK} probe {k} ok" in out)
    if not {"address,undefined", "undefined"} & set(works):
        raise SanitizerUnavailable(
            "clang-14 cannot build and run a -fsanitize=undefined program in the sandbox "
            f"({result.verdict.value} {result.detail}): install libclang-rt-14-dev (scripts/setup.sh), "
            "or build with sanitize=false"
        )
    return works


def available_sanitizers(sb, run_time_s: float = 60.0) -> tuple[str, ...]:
    """`probe_sanitizers`, once per sandbox."""
    with contextlib.suppress(KeyError, TypeError):  # TypeError: a sandbox that cannot be weakly referenced
        return _probed[sb]
    found = probe_sanitizers(sb, run_time_s)
    with contextlib.suppress(TypeError):
        _probed[sb] = found
    return found


def _same(a: Outcome, b: Outcome) -> bool:
    """Two runs behave alike: same exit status and stdout, or both hang (partial output aside)."""
    return a == b or (a.timed_out and b.timed_out)


def judge_input(plain: Outcome, reproduced: bool, sanitized: Sequence[Outcome | None]) -> str | None:
    """Why an input cannot serve as a witness, given its first plain run, whether the plain reruns
    behaved alike, and its sanitized runs (None: a sanitized run stopped before reaching it); None
    when it can."""
    if any(o is not None and o.sanitizer_report for o in sanitized):
        return "undefined"
    if not reproduced:
        return "nondeterministic"
    if not all(o is not None and _same(plain, o) for o in sanitized):
        return "sanitizer_disagrees"
    return None


def reference_behaviour(
    sb, program: Program, inputs: Sequence[str], timeout_s: float, run_time_s: float, *, sanitize: bool = True
) -> Reference | Run:
    """The source's behaviour on every input (see the module docstring), or the failed Run when the
    source itself does not build or run."""
    sanitizers = available_sanitizers(sb, run_time_s) if sanitize else ()
    programs = [program] + [replace(program, sanitize=s) for s in sanitizers]
    timeouts = [timeout_s] + [timeout_s * SANITIZER_SLOWDOWN] * len(sanitizers)
    runs = run_references(sb, programs, inputs, timeouts, run_time_s, repeats=[2] + [1] * len(sanitizers))
    if runs[0].error is not None:
        return runs[0]
    for run in runs[1:]:
        if run.infra or run.build_failed:
            return replace(run, error=f"sanitized build: {run.error}")
    outcomes: dict[int, Outcome] = {}
    dropped: dict[int, str] = {}
    for i in range(len(inputs)):
        plain = runs[0].outcomes[i]
        why = judge_input(plain, runs[0].reproduced(i), [run.outcomes.get(i) for run in runs[1:]])
        if why is not None:
            dropped[i] = why
        else:
            slowest = max([plain.seconds] + [r.seconds for r in runs[0].reruns.get(i, [])])
            outcomes[i] = replace(plain, seconds=slowest)
    return Reference(outcomes, dropped, sanitizers)
