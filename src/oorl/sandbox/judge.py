"""Judging: compile once (content-addressed cache), then run every test, one verdict per test and overall."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from oorl.langs import Language, UnknownLanguageError, get_language, with_sentinel
from oorl.sandbox.cache import CompileCache, Entry, UnsafeOutput
from oorl.sandbox.compare import outputs_match
from oorl.sandbox.execute import execute
from oorl.sandbox.runs import ExecResult, RunLimits
from oorl.sandbox.slot import Slot
from oorl.sandbox.types import CompileResult, JudgeRequest, JudgeResult, Limits, TestResult, Verdict

COMPILE_OUTPUT_BYTES = 1 << 20


_PRESENT: set[str] = set()  # toolchain binaries found once (a missing one is looked for every time)


def missing_toolchain(lang: Language, code: str = "") -> str | None:
    """None if the binaries `lang` needs exist, else a message naming the Debian package(s)."""
    run = lang.run_argv(code, 64)[0]
    first = (lang.compile_argv(code) or (run,))[0]
    for binary in (first, run) if os.path.isabs(first) else (run,):
        if binary in _PRESENT or binary.startswith("/box"):
            continue
        if not os.access(binary, os.X_OK):
            return f"{lang.name}: {binary} is missing; install it with: apt-get install {' '.join(lang.packages)}"
        _PRESENT.add(binary)
    return None


def _run_limits(limits: Limits, lang: Language, *, compile: bool) -> RunLimits:
    return RunLimits(
        wall_s=limits.compile_time_s if compile else limits.time_s,
        cpu_s=limits.compile_time_s if compile else limits.cpu_seconds,
        memory_mb=limits.compile_memory_mb if compile else limits.memory_mb,
        processes=max(limits.processes, 512) if compile else limits.processes,
        file_size_mb=max(limits.file_size_mb, 256) if compile else limits.file_size_mb,
        disk_mb=max(limits.disk_mb, 1024) if compile else limits.disk_mb,
        open_files=max(limits.open_files, 1024) if compile else limits.open_files,
        output_bytes=COMPILE_OUTPUT_BYTES if compile else int(limits.output_mb * 2**20),
        as_headroom_mb=None if compile else lang.as_headroom_mb,
    )


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


@dataclass(frozen=True)
class HarnessCheck:
    """What a harness run must show to pass, besides exit 0 and no failure marker in stderr: the
    sentinel line (see `langs.Sentinel`) on stdout and, for a test-runner source, the runner's own
    summary with every test passed."""

    nonce: str
    tests: int | None  # tests the runner must report passed (None: not a test-runner source)

    def line(self) -> str:
        return f"\n{self.nonce}\n"


def compile_program(
    lang: Language, code: str, limits: Limits, slot: Slot, cache: CompileCache, *, harness: bool = False
) -> tuple[CompileResult, Path | None, HarnessCheck | None, str]:
    """(result, box directory to run from, what a harness run must show, sandbox error detail or "");
    `code` is the program as `Language.source` prepares it.

    With `harness`, the program gets the language's sentinel (when one fits it) with a fresh random
    nonce, kept with the compiled program in the cache's metadata, outside the box."""
    key, box, entry = cache.find(lang, code, harness=harness)
    sentinel = lang.sentinel_for(code) if harness else None
    tests = lang.expected_tests(code) + 1 if sentinel is not None and lang.is_test_source(code) else None
    if entry is not None:
        expect = HarnessCheck(entry.nonce, tests) if entry.nonce else None
        return entry.result, box, expect, ""
    nonce = secrets.token_hex(16) if sentinel is not None else None
    program = code if sentinel is None else with_sentinel(lang, code, sentinel, nonce)
    staged = cache.staging(slot.uid)
    (staged / lang.file_name(program)).write_text(program, encoding="utf-8", errors="surrogatepass")
    for name, text in lang.support_files(program):
        (staged / name).write_text(text, encoding="utf-8")
    argv = lang.compile_argv(program, sentinel)
    expect = HarnessCheck(nonce, tests) if nonce else None
    if argv is None:
        return _commit(cache, key, staged, Entry(result=CompileResult(ok=True), nonce=nonce), tests)
    res = execute(
        argv,
        slot=slot,
        limits=_run_limits(limits, lang, compile=True),
        box=staged,
        box_writable=True,
        env=lang.env,
    )
    if res.setup_failed:
        shutil.rmtree(staged, ignore_errors=True)
        return CompileResult(ok=False, output=res.setup_error), None, None, res.setup_error
    output = _decode(res.stdout + res.stderr)[0]
    if res.timed_out or res.cpu_exceeded:
        output += f"\n[compile step exceeded {limits.compile_time_s:g} s]"
    elif res.oom_killed:
        output += f"\n[compile step exceeded {limits.compile_memory_mb} MiB]"
    elif res.signal is not None:
        output += f"\n[compiler killed by signal {signal.Signals(res.signal).name}]"
    result = CompileResult(ok=res.exit_code == 0, output=output[-20000:], time_s=round(res.wall_s, 4))
    if res.timed_out or res.cpu_exceeded or res.oom_killed:
        shutil.rmtree(staged, ignore_errors=True)  # limits may differ next time: do not cache
        return result, None, expect, ""
    if nonce is not None:  # the runs need only what the compiler made: the nonce is not left in a file
        with contextlib.suppress(OSError):
            (staged / lang.file_name(program)).unlink()
    return _commit(cache, key, staged, Entry(result=result, nonce=nonce), tests)


def _commit(
    cache: CompileCache, key: str, staged: Path, entry: Entry, tests: int | None
) -> tuple[CompileResult, Path | None, HarnessCheck | None, str]:
    """Publish a compile step's box. What it left that cannot be kept is the program's doing (a
    compile error); anything else that goes wrong is ours (this request's sandbox error)."""
    try:
        box, entry = cache.commit(key, staged, entry)
    except UnsafeOutput as e:
        return CompileResult(ok=False, output=str(e)), None, None, ""
    except OSError as e:
        return CompileResult(ok=False, output=str(e)), None, None, f"cannot store the compiled program: {e}"
    return entry.result, box, HarnessCheck(entry.nonce, tests) if entry.nonce else None, ""


def _markers(text: str, markers: tuple[str, ...]) -> bool:
    return any(m in text for m in markers)


def _classify(
    res: ExecResult, lang: Language, limits: Limits, harness: HarnessCheck | None, stdout: str
) -> tuple[Verdict, str]:
    """The verdict of a finished run before any output comparison (ACCEPTED = ran cleanly). Failure
    markers count only for harness runs, and only in stderr; `stdout` is the run's, sentinel removed."""
    if res.setup_failed:
        return Verdict.SANDBOX_ERROR, res.setup_error
    if res.output_exceeded:
        return Verdict.OUTPUT_LIMIT, f"output exceeded {limits.output_mb:g} MiB"
    if res.timed_out:
        return Verdict.TIME_LIMIT, f"wall time exceeded {limits.time_s:g} s"
    if res.cpu_exceeded or res.signal == signal.SIGXCPU:
        return Verdict.TIME_LIMIT, f"CPU time (all processes together) exceeded {limits.cpu_seconds:g} s"
    if res.oom_killed:
        return Verdict.MEMORY_LIMIT, f"memory exceeded {limits.memory_mb} MiB"
    stderr = res.stderr.decode("utf-8", errors="replace")
    failed = harness is not None and (
        _markers(stderr, lang.assertion_markers)
        or (lang.test_failed is not None and re.search(lang.test_failed, stdout) is not None)
    )
    if res.signal is not None:
        name = (
            signal.Signals(res.signal).name if res.signal in signal.Signals._value2member_map_ else res.signal
        )
        if res.signal == signal.SIGXFSZ:
            return Verdict.RUNTIME_ERROR, f"file size limit ({limits.file_size_mb} MiB) exceeded"
        if res.signal == signal.SIGABRT and failed:
            return Verdict.WRONG_ANSWER, "assertion failed"
        return Verdict.RUNTIME_ERROR, f"killed by signal {name}"
    if res.exit_code != 0:
        if _markers(stderr, lang.memory_markers):
            return Verdict.MEMORY_LIMIT, f"out of memory (limit {limits.memory_mb} MiB)"
        if failed:
            return Verdict.WRONG_ANSWER, f"assertion failed (exit code {res.exit_code})"
        return Verdict.RUNTIME_ERROR, f"exit code {res.exit_code}"
    if harness is None:
        return Verdict.ACCEPTED, ""
    if failed or _markers(stderr, lang.failure_markers):
        return Verdict.WRONG_ANSWER, "the harness reported a failed test"
    if harness.nonce not in res.stdout.decode("utf-8", errors="replace"):
        return Verdict.WRONG_ANSWER, "the program ended before its tests did (no end-of-tests sentinel)"
    if harness.tests is not None:
        passed = lang.tests_passed(stdout)
        if passed != harness.tests:
            return Verdict.WRONG_ANSWER, f"the test runner reported {passed} of {harness.tests} tests passed"
    return Verdict.ACCEPTED, ""


def judge(request: JudgeRequest, *, slot: Slot, cache: CompileCache, default_limits: Limits) -> JudgeResult:
    start = time.monotonic()
    limits = request.limits or default_limits
    try:
        lang = get_language(request.language)
    except UnknownLanguageError as e:
        return JudgeResult.sandbox_error(request, str(e))
    total = max(1, len(request.tests))
    if not request.code.strip():
        return JudgeResult(
            verdict=Verdict.COMPILE_ERROR, passed=0, total=total, detail="the program is empty"
        )
    missing = missing_toolchain(lang, request.code)
    if missing:
        return JudgeResult.sandbox_error(request, missing)

    code = lang.source(request.code)
    harness_run = request.harness and not request.tests
    if harness_run and lang.sentinel_unfit(code):
        return JudgeResult(
            verdict=Verdict.COMPILE_ERROR,
            passed=0,
            total=total,
            detail="the harness cannot be checked: the entry point is named more than once "
            "(comments and strings count)",
        )
    compiled, box, harness, error = compile_program(lang, code, limits, slot, cache, harness=harness_run)
    if error:
        return JudgeResult(
            verdict=Verdict.SANDBOX_ERROR,
            passed=0,
            total=total,
            compile=compiled,
            detail=error,
            time_s=time.monotonic() - start,
        )
    if not compiled.ok:
        return JudgeResult(
            verdict=Verdict.COMPILE_ERROR,
            passed=0,
            total=total,
            compile=compiled,
            detail=compiled.output.strip().splitlines()[-1][:300] if compiled.output.strip() else "",
            time_s=time.monotonic() - start,
        )

    sentinel = lang.sentinel_for(code) if harness is not None else None
    argv = lang.run_argv(code, max(32, limits.memory_mb * 3 // 4), sentinel)
    run_limits = _run_limits(limits, lang, compile=False)
    results: list[TestResult] = []
    cases = request.tests or [None]
    for case in cases:
        res = execute(
            argv,
            slot=slot,
            limits=run_limits,
            stdin=case.stdin.encode() if case else b"",
            box=box,
            env=lang.env,
        )
        stdout, stdout_ok = _decode(res.stdout)
        if harness is not None:
            stdout = stdout.replace(harness.line(), "", 1).replace(harness.nonce, "", 1)
        verdict, detail = _classify(res, lang, limits, harness, stdout)
        stderr, _ = _decode(res.stderr)
        if (
            verdict is Verdict.ACCEPTED
            and case is not None
            and case.expected is not None
            and not outputs_match(stdout, case.expected, request.checker)
        ):
            verdict = Verdict.WRONG_ANSWER
            detail = "output differs" if stdout_ok else "output differs (stdout is not valid UTF-8)"
        results.append(
            TestResult(
                verdict=verdict,
                exit_code=res.exit_code,
                stdout=stdout,
                stderr=stderr,
                time_s=round(res.wall_s, 4),
                stdin=case.stdin if case else None,
                expected=case.expected if case else None,
                detail=detail,
            )
        )
        if verdict is Verdict.SANDBOX_ERROR or (verdict is not Verdict.ACCEPTED and request.stop_on_failure):
            break
    passed = sum(r.verdict is Verdict.ACCEPTED for r in results)
    failed = next((r for r in results if r.verdict is not Verdict.ACCEPTED), None)
    return JudgeResult(
        verdict=failed.verdict if failed else Verdict.ACCEPTED,
        passed=passed,
        total=total,
        tests=results,
        compile=compiled,
        time_s=round(time.monotonic() - start, 4),
        detail=failed.detail if failed else "",
    )
