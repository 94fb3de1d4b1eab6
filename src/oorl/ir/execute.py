"""Differential execution of IR in the sandbox: the source's outputs, then each candidate against them.

IR (generated or mutated) is untrusted code, so it only ever runs through `oorl.sandbox`: one
sandbox run per program is a bash script that writes the IR (and a C driver for function-level
sources), builds it with `clang-14 -O0 -x ir` and runs it on every input, each under `timeout`.
Reference runs print every input's exit status and stdout (base64); candidate runs compare each
input with the reference inside the script and stop at the first difference, so a mutant that hangs
costs one timeout, not one per input. Python re-checks every difference it is told about.
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from oorl.sandbox.types import JudgeRequest, JudgeResult, Limits, Verdict

MARK = "@@oorl-ir"
TIMEOUT_EXIT = 124  # GNU timeout's status for a command it had to stop
# A run that never ends: stopped by `timeout` (124, or 137 when it needed SIGKILL), or killed by the
# file-size limit (SIGXFSZ, 128 + 25) because it printed without end. Which of those comes first
# depends on machine load, so all three are one kind, "timeout", and a replay gives the same kind.
RUNAWAY_EXITS = (TIMEOUT_EXIT, 137, 153)
OBSERVED_BYTES = 4000  # a differing output is kept up to this many bytes (the sandbox keeps 10k of stdout)
_LINE = re.compile(rf"^{MARK} (\d+) (\d+) ?([A-Za-z0-9+/=]*)$")


@dataclass(frozen=True)
class Program:
    """What runs: a C source or an IR module (with its datalayout/triple), optionally linked with a C driver."""

    code: str
    kind: Literal["c", "ir"]
    driver: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One input's behaviour: exit status (TIMEOUT_EXIT for a hang) and stdout."""

    exit_code: int
    stdout: str

    @property
    def timed_out(self) -> bool:
        return self.exit_code in RUNAWAY_EXITS


@dataclass(frozen=True)
class Run:
    """A sandbox run: `outcomes[i]` for the inputs it reports; `error` when nothing could run."""

    outcomes: dict[int, Outcome]
    error: str | None = None
    build_failed: bool = False
    all_same: bool = False
    infra: bool = False  # the sandbox failed (ours, not the program's): worth retrying later


def _b64_file(name: str, data: str) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(data.encode()).decode(), 76)) or ""
    return f"base64 -d > {name} <<'@@B64'\n{body}\n@@B64\n"


def _build_cmd(program: Program) -> str:
    srcs = "-x ir prog.ll" if program.kind == "ir" else "-x c -std=gnu11 prog.c"
    if program.driver is not None:
        srcs += " -x c -std=gnu11 driver.c"
    return f"/usr/bin/clang-14 -O0 -w {srcs} -o prog -lm"


def _sq(text: str) -> str:
    """`text` as one single-quoted bash word (bash builtins then write it without spawning a process)."""
    return "'" + text.replace("'", "'\\''") + "'"


def script(
    program: Program,
    inputs: Sequence[str],
    timeout_s: float,
    *,
    expected: Sequence[Outcome] | None = None,
    indices: Sequence[int] | None = None,
) -> str:
    """The bash program of one sandbox run (see the module docstring for its output protocol).

    Inputs and expected outputs are written and compared with bash builtins (`printf`, `read`):
    per input only `timeout` and the program itself start, which keeps a 64-input run cheap.
    """
    indices = list(range(len(inputs))) if indices is None else list(indices)
    parts = ["set -u\n", _b64_file("prog.ll" if program.kind == "ir" else "prog.c", program.code)]
    if program.driver is not None:
        parts.append(_b64_file("driver.c", program.driver))
    parts.append(
        f"if ! {_build_cmd(program)} 2> build.err; then echo '{MARK} BUILD-FAILED'; head -c 2000 build.err; exit 0; fi\n"
    )
    parts.append(f"run() {{ timeout -k 0.5 {timeout_s:g} ./prog < in.$1 > out.$1 2> /dev/null; }}\n")
    for i in indices:
        parts.append(f"printf '%s' {_sq(inputs[i])} > in.{i}\n")
        if expected is None:
            parts.append(f'run {i}; rc=$?; echo "{MARK} {i} $rc $(base64 -w0 out.{i})"\n')
        else:
            parts.append(
                f"run {i}; rc=$?; got=; IFS= read -r -d '' got < out.{i}; "
                f'if [ $rc -ne {expected[i].exit_code} ] || [[ "$got" != {_sq(expected[i].stdout)} ]]; then '
                f'echo "{MARK} {i} $rc $(head -c {OBSERVED_BYTES} out.{i} | base64 -w0)"; exit 0; fi\n'
            )
    parts.append(f"echo '{MARK} END'\n")
    return "".join(parts)


def request(script_text: str, run_time_s: float) -> JudgeRequest:
    """The sandbox request for one run script (clang needs more memory than a typical program)."""
    return JudgeRequest(
        language="bash",
        code=script_text,
        limits=Limits(time_s=run_time_s, memory_mb=1024, processes=64),
        harness=False,  # a trusted script that may stop early on purpose
    )


def parse(result: JudgeResult) -> Run:
    """The outcomes a run reported; an infrastructure failure or lost output becomes `error`."""
    if result.verdict is Verdict.SANDBOX_ERROR or not result.tests:
        return Run({}, error=f"sandbox error: {result.detail}", infra=True)
    stdout = result.tests[0].stdout
    if f"{MARK} BUILD-FAILED" in stdout:
        return Run({}, error=stdout.split(f"{MARK} BUILD-FAILED", 1)[1].strip()[:2000], build_failed=True)
    outcomes = {}
    for line in stdout.splitlines():
        m = _LINE.match(line)
        if m:
            data = base64.b64decode(m.group(3)).decode("utf-8", errors="replace")
            outcomes[int(m.group(1))] = Outcome(int(m.group(2)), data)
    done = f"{MARK} END" in stdout
    error = None
    if result.verdict is not Verdict.ACCEPTED and not done:
        error = f"run stopped early: {result.verdict.value} {result.detail}".strip()
    return Run(outcomes, error=error, all_same=done)


def run_reference(sb, program: Program, inputs: Sequence[str], timeout_s: float, run_time_s: float) -> Run:
    """Every input's outcome. The sandbox keeps the last 10k characters of stdout, so inputs whose
    lines were cut off are run again until all are in (an output too large for one run is an error)."""
    outcomes: dict[int, Outcome] = {}
    remaining = list(range(len(inputs)))
    while remaining:
        run = parse(sb.judge(request(script(program, inputs, timeout_s, indices=remaining), run_time_s)))
        if run.error is not None:
            return Run(
                outcomes | run.outcomes, error=run.error, build_failed=run.build_failed, infra=run.infra
            )
        got = {i: o for i, o in run.outcomes.items() if i in remaining}
        if not got:
            return Run(outcomes, error="an output is too large to report")
        outcomes |= got
        remaining = [i for i in remaining if i not in outcomes]
    return Run(outcomes, all_same=True)


def run_against(
    sb,
    programs: Sequence[Program],
    inputs: Sequence[str],
    reference: Sequence[Outcome],
    timeout_s: float,
    run_time_s: float,
) -> list[Run]:
    """Each program run on all inputs against the reference, in parallel; a Run reports all_same or
    the first differing input."""
    reqs = [request(script(p, inputs, timeout_s, expected=reference), run_time_s) for p in programs]
    return [parse(r) for r in sb.judge_many(reqs)]


def difference(observed: Outcome, expected: Outcome) -> Literal["output", "crash", "timeout"] | None:
    """How `observed` differs from the reference: a hang, another exit status, or other stdout."""
    if observed.timed_out:
        return "timeout"
    if observed.exit_code != expected.exit_code:
        return "crash"
    if observed.stdout != expected.stdout:
        return "output"
    return None
