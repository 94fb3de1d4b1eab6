"""Differential execution of IR in the sandbox: the source's outputs, then each candidate against them.

IR (generated or mutated) is untrusted code, so it only ever runs through `oorl.sandbox`: one
sandbox run per program is a bash script that writes the IR (and a C driver for function-level
sources), builds it with `clang-14 -O0 -x ir` and runs it on every input, each under `timeout`.
Reference runs print every input's exit status, wall time (bash's own clock) and stdout (base64);
candidate runs compare each input with the expected outcome inside the script and stop at the
first difference. Either can run an input again right away (`repeats`, `reruns`): each rerun is
reported as its exit status and whether it printed the same as the first run. A mutant that hangs costs one timeout per run, not one per
input. Python re-checks every difference it is told about.

A C program can also be built with clang's sanitizers (`Program.sanitize`): an input on which a
sanitizer reports is then reported with the exit status `SANITIZER_REPORT` (oorl.ir.reference).
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from oorl.sandbox import JudgeRequest, JudgeResult, Limits, Verdict

MARK = "@@oorl-ir"
TIMEOUT_EXIT = 124  # GNU timeout's status for a command it had to stop
# A run that never ends: stopped by `timeout` (124, or 137 when it needed SIGKILL), or killed by the
# file-size limit (SIGXFSZ, 128 + 25) because it printed without end. Which of those comes first
# depends on machine load, so all three are one kind, "timeout", and a replay gives the same kind.
RUNAWAY_EXITS = (TIMEOUT_EXIT, 137, 153)
SIGNAL_EXITS = 128  # bash reports a process killed by signal N as 128 + N
# What a sanitized run reports for an input on which a sanitizer found undefined behaviour: no
# process exit status can be this (they are 0-255). The runtime exits with SANITIZER_EXIT and says
# "...Sanitizer" on stderr; both must hold, so a program's own exit(86) is not taken for a report.
SANITIZER_REPORT = 999
SANITIZER_EXIT = 86
SANITIZER_ENV = (
    "ASAN_OPTIONS=detect_leaks=0:exitcode=86 "
    "UBSAN_OPTIONS=halt_on_error=1:exitcode=86:print_stacktrace=0 "
    "MSAN_OPTIONS=exitcode=86"
)
OBSERVED_BYTES = 4000  # a differing output is kept up to this many bytes (the sandbox keeps 10k of stdout)
_LINE = re.compile(rf"^{MARK} (\d+) (\d+) (\d+) ?([A-Za-z0-9+/=]*)$")
_AGAIN = re.compile(rf"^{MARK} again (\d+) (\d+) (\d+) ([01])$")

Kind = Literal["output", "exit_code", "crash", "timeout"]


@dataclass(frozen=True)
class Program:
    """What runs: a C source or an IR module (with its datalayout/triple), optionally linked with a C
    driver; `sanitize` is a clang `-fsanitize=` list for a C source (None: a plain build)."""

    code: str
    kind: Literal["c", "ir"]
    driver: str | None = None
    sanitize: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One input's behaviour: exit status (TIMEOUT_EXIT for a hang) and stdout; `seconds` is the wall
    time it took (not part of equality: two runs agree when they print and exit alike)."""

    exit_code: int
    stdout: str
    seconds: float = field(default=0.0, compare=False)

    @property
    def timed_out(self) -> bool:
        return self.exit_code in RUNAWAY_EXITS

    @property
    def sanitizer_report(self) -> bool:
        return self.exit_code == SANITIZER_REPORT


@dataclass(frozen=True)
class Rerun:
    """An input run again: its exit status, and whether it printed the same stdout as the first run
    (a candidate's: up to OBSERVED_BYTES, as much as a recorded observation holds)."""

    exit_code: int
    same_stdout: bool
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.exit_code in RUNAWAY_EXITS


@dataclass(frozen=True)
class Run:
    """A sandbox run: `outcomes[i]` for the inputs it reports; `error` when nothing could run.

    `reruns[i]`: the runs of input i after the first (a reference's repeats, or a candidate's reruns
    of its first difference)."""

    outcomes: dict[int, Outcome]
    error: str | None = None
    build_failed: bool = False
    all_same: bool = False
    infra: bool = False  # the sandbox failed (ours, not the program's): worth retrying later
    reruns: dict[int, list[Rerun]] = field(default_factory=dict)

    def reproduced(self, i: int) -> bool:
        """Every rerun of input i behaved like the first run: the same exit status and stdout, or for
        a hang, a hang again (its partial stdout aside)."""
        first = self.outcomes[i]
        return all(
            (first.timed_out and r.timed_out) or (r.exit_code == first.exit_code and r.same_stdout)
            for r in self.reruns.get(i, [])
        )


def _b64_file(name: str, data: str) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(data.encode()).decode(), 76)) or ""
    return f"base64 -d > {name} <<'@@B64'\n{body}\n@@B64\n"


def _build_cmd(program: Program) -> str:
    srcs = "-x ir prog.ll" if program.kind == "ir" else "-x c -std=gnu11 prog.c"
    if program.driver is not None:
        srcs += " -x c -std=gnu11 driver.c"
    flags = "-O0 -w"
    if program.sanitize is not None:
        flags += f" -fsanitize={program.sanitize} -fno-sanitize-recover=all"
        if "memory" in program.sanitize.split(","):
            # uninitialised values passed to a function (printf's arguments) count as uses
            flags += " -fsanitize-memory-param-retval"
    return f"/usr/bin/clang-14 {flags} {srcs} -o prog -lm"


def _sq(text: str) -> str:
    """`text` as one single-quoted bash word (bash builtins then write it without spawning a process)."""
    return "'" + text.replace("'", "'\\''") + "'"


def _run_fn(program: Program, timeout_s: float) -> str:
    """`run I`: input I once; `$rc` its status and `$us` its wall microseconds (bash's clock, no process)."""
    cmd = f"timeout -k 0.5 {timeout_s:g} ./prog < in.$1 > out.$1"
    if program.sanitize is None:
        body = f"{cmd} 2> /dev/null; rc=$?"
    else:
        body = (
            f"{SANITIZER_ENV} {cmd} 2> err.$1; rc=$?; "
            f"if [ $rc -eq {SANITIZER_EXIT} ] && grep -q Sanitizer err.$1; then rc={SANITIZER_REPORT}; fi"
        )
    return (
        f"run() {{ local t0=${{EPOCHREALTIME/[.,]/}}; {body}; us=$(( ${{EPOCHREALTIME/[.,]/}} - t0 )); }}\n"
    )


def _differs(expected: Outcome) -> str:
    """The bash test that the last run ($rc, $got) does not behave like `expected`."""
    return f'{{ [ $rc -ne {expected.exit_code} ] || [[ "$got" != {_sq(expected.stdout)} ]]; }}'


def script(
    program: Program,
    inputs: Sequence[str],
    timeout_s: float,
    *,
    expected: Sequence[Outcome] | None = None,
    indices: Sequence[int] | None = None,
    repeats: int = 1,
    reruns: int = 0,
    rerun_hangs: Collection[int] | None = None,
) -> str:
    """The bash program of one sandbox run (see the module docstring for its output protocol).

    Without `expected` every input in `indices` (default: all) is run and reported, then run
    `repeats - 1` more times, each reported as `again` with 1 when it printed the same. With
    `expected` the run stops at the first input that differs, after running it `reruns` more times,
    reported the same way (stdout compared up to OBSERVED_BYTES); a hang is rerun only on the
    inputs in `rerun_hangs` (None: all), where it can count. Inputs and expected outputs are
    written and compared with bash builtins (`printf`, `read`): per input only `timeout` and the
    program itself start, which keeps a 64-input run cheap.
    """
    indices = list(range(len(inputs))) if indices is None else list(indices)
    parts = ["set -u\n", _b64_file("prog.ll" if program.kind == "ir" else "prog.c", program.code)]
    if program.driver is not None:
        parts.append(_b64_file("driver.c", program.driver))
    parts.append(
        f"if ! {_build_cmd(program)} 2> build.err; then echo '{MARK} BUILD-FAILED'; head -c 2000 build.err; exit 0; fi\n"
    )
    parts.append(_run_fn(program, timeout_s))
    # the first difference, reported; then the same input again, each run compared with the first
    parts.append(
        f'differs() {{ head -c {OBSERVED_BYTES} out.$1 > first; echo "{MARK} $1 $rc $us $(base64 -w0 first)"; '
        f"if [ $2 = 0 ] && [[ $rc =~ ^({'|'.join(map(str, RUNAWAY_EXITS))})$ ]]; then exit 0; fi; "
        f"for ((k = 0; k < {reruns}; k++)); do run $1; head -c {OBSERVED_BYTES} out.$1 > again; "
        f'cmp -s first again; echo "{MARK} again $1 $rc $us $(( $? == 0 ))"; done; exit 0; }}\n'
    )
    for i in indices:
        parts.append(f"printf '%s' {_sq(inputs[i])} > in.{i}\n")
    for i in indices:
        if expected is None:
            parts.append(f'run {i}; echo "{MARK} {i} $rc $us $(base64 -w0 out.{i})"\n')
            if repeats > 1:
                parts.append(f"mv out.{i} first\n")
                parts.append(
                    f'run {i}; cmp -s first out.{i}; echo "{MARK} again {i} $rc $us $(( $? == 0 ))"\n'
                    * (repeats - 1)
                )
        else:
            parts.append(
                f"run {i}; got=; IFS= read -r -d '' got < out.{i}; "
                f"if {_differs(expected[i])}; then differs {i} {int(rerun_hangs is None or i in rerun_hangs)}; fi\n"
            )
    parts.append(f"echo '{MARK} END'\n")
    return "".join(parts)


def request(script_text: str, run_time_s: float) -> JudgeRequest:
    """The sandbox request for one run script (clang needs more memory than a typical program)."""
    return JudgeRequest(
        language="bash", code=script_text, limits=Limits(time_s=run_time_s, memory_mb=1024, processes=64)
    )


def parse(result: JudgeResult) -> Run:
    """The outcomes a run reported; an infrastructure failure or lost output becomes `error`."""
    if result.verdict is Verdict.SANDBOX_ERROR or not result.tests:
        return Run({}, error=f"sandbox error: {result.detail}", infra=True)
    stdout = result.tests[0].stdout
    if f"{MARK} BUILD-FAILED" in stdout:
        return Run({}, error=stdout.split(f"{MARK} BUILD-FAILED", 1)[1].strip()[:2000], build_failed=True)
    outcomes: dict[int, Outcome] = {}
    reruns: dict[int, list[Rerun]] = {}
    for line in stdout.splitlines():
        if m := _LINE.match(line):
            outcomes[int(m.group(1))] = _outcome(m.group(2), m.group(3), m.group(4))
        elif m := _AGAIN.match(line):
            rerun = Rerun(int(m.group(2)), m.group(4) == "1", int(m.group(3)) / 1e6)
            reruns.setdefault(int(m.group(1)), []).append(rerun)
    done = f"{MARK} END" in stdout
    error = None
    if result.verdict is not Verdict.ACCEPTED and not done:
        error = f"run stopped early: {result.verdict.value} {result.detail}".strip()
    return Run(outcomes, error=error, all_same=done, reruns=reruns)


def _outcome(rc: str, us: str, b64: str) -> Outcome:
    return Outcome(int(rc), base64.b64decode(b64).decode("utf-8", errors="replace"), int(us) / 1e6)


def run_references(
    sb,
    programs: Sequence[Program],
    inputs: Sequence[str],
    timeouts_s: Sequence[float],
    run_time_s: float,
    repeats: Sequence[int] | None = None,
) -> list[Run]:
    """Every input's outcome under each program (in parallel), program k run `repeats[k]` times
    (default once) per input with input timeout `timeouts_s[k]`. The sandbox keeps the last 10k
    characters of stdout, so inputs whose lines were cut off are run again until all are in (an
    output too large for one run is an error)."""
    repeats = repeats or [1] * len(programs)
    outcomes: list[dict[int, Outcome]] = [{} for _ in programs]
    reruns: list[dict[int, list[Rerun]]] = [{} for _ in programs]
    finished: list[Run | None] = [None] * len(programs)
    while pending := [k for k, f in enumerate(finished) if f is None]:
        todo = {k: [i for i in range(len(inputs)) if i not in outcomes[k]] for k in pending}
        reqs = [
            request(
                script(programs[k], inputs, timeouts_s[k], indices=todo[k], repeats=repeats[k]), run_time_s
            )
            for k in pending
        ]
        for k, res in zip(pending, sb.judge_many(reqs), strict=True):
            run = parse(res)
            # an input is in once its first run and every repeat are (the front of stdout may be cut)
            got = [i for i in todo[k] if i in run.outcomes and len(run.reruns.get(i, [])) == repeats[k] - 1]
            for i in got:
                outcomes[k][i] = run.outcomes[i]
                reruns[k][i] = run.reruns.get(i, [])
            if run.error is not None or not got or len(outcomes[k]) == len(inputs):
                error = run.error or (None if got else "an output is too large to report")
                finished[k] = Run(outcomes[k], error, run.build_failed, error is None, run.infra, reruns[k])
    return [f for f in finished if f is not None]


def run_reference(sb, program: Program, inputs: Sequence[str], timeout_s: float, run_time_s: float) -> Run:
    """Every input's outcome under one program (see `run_references`)."""
    return run_references(sb, [program], inputs, [timeout_s], run_time_s)[0]


def run_against(
    sb,
    programs: Sequence[Program],
    inputs: Sequence[str],
    reference: Sequence[Outcome],
    timeout_s: float,
    run_time_s: float,
    reruns: int = 0,
    rerun_hangs: Collection[int] | None = None,
) -> list[Run]:
    """Each program run on all inputs against the reference, in parallel; a Run reports all_same or
    the first differing input (run `reruns` more times, a hang only on `rerun_hangs`; see `script`)."""
    reqs = [
        request(
            script(p, inputs, timeout_s, expected=reference, reruns=reruns, rerun_hangs=rerun_hangs),
            run_time_s,
        )
        for p in programs
    ]
    return [parse(r) for r in sb.judge_many(reqs)]


def difference(observed: Outcome, expected: Outcome) -> Kind | None:
    """How `observed` differs from the reference: a hang, a signal, other stdout, or (same stdout)
    another exit status from a normal exit."""
    if observed.timed_out:
        return "timeout"
    if observed.exit_code != expected.exit_code and observed.exit_code >= SIGNAL_EXITS:
        return "crash"
    if observed.stdout != expected.stdout:
        return "output"
    if observed.exit_code != expected.exit_code:
        return "exit_code"
    return None
