"""The sandbox's typed interface: limits in, one verdict from a closed set out.

A `sandbox_error` is infrastructure failure (ours), never a program failure: callers such as the
reward retry it and never turn it into a zero reward.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    WRONG_ANSWER = "wrong_answer"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"

    @property
    def is_program_failure(self) -> bool:
        return self not in (Verdict.ACCEPTED, Verdict.SANDBOX_ERROR)


class Limits(BaseModel):
    """Per-run resource limits. The compile step has its own, more generous, time and memory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    time_s: float = Field(5.0, gt=0, description="wall-clock seconds per test run")
    cpu_s: float | None = Field(None, gt=0, description="CPU seconds per test run (default: time_s)")
    memory_mb: int = Field(512, ge=16, description="memory per run (cgroup, else a per-runtime fallback)")
    processes: int = Field(64, ge=1, description="processes and threads alive at once")
    file_size_mb: int = Field(16, ge=1, description="largest single file the program may write")
    disk_mb: int = Field(
        64, ge=1, description="total size of the writable file systems (/tmp, and /dev/shm: an eighth of it)"
    )
    open_files: int = Field(256, ge=16, description="open file descriptors")
    output_mb: float = Field(8.0, gt=0, description="stdout + stderr; more is output_limit")
    compile_time_s: float = Field(60.0, gt=0, description="wall-clock seconds for the compile step")
    compile_memory_mb: int = Field(2048, ge=64, description="memory for the compile step")

    @property
    def cpu_seconds(self) -> float:
        return self.cpu_s if self.cpu_s is not None else self.time_s


class StdioTest(BaseModel):
    """stdin -> expected stdout (None: only run it; a clean exit passes)."""

    model_config = ConfigDict(extra="ignore")

    stdin: str = ""
    expected: str | None


class Checker(BaseModel):
    """How stdout is compared with the expected output.

    exact:    byte-for-byte after decoding.
    tolerant: CRLF -> LF, trailing whitespace of every line and trailing blank lines ignored;
              with `float_tol`, tokens that both parse as floats match within that absolute/relative tolerance.
    apps:     APPS' lenient judge (hendrycks/apps testing_util.py, rules 1-5; see sandbox/compare.py).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["exact", "tolerant", "apps"] = "tolerant"
    float_tol: float | None = None


class CompileResult(BaseModel):
    ok: bool
    output: str = ""
    time_s: float = 0.0
    cached: bool = False


class TestResult(BaseModel):
    verdict: Verdict
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    time_s: float = 0.0
    stdin: str | None = None
    expected: str | None = None
    detail: str = ""


class JudgeResult(BaseModel):
    """One verdict overall (the first failing test's, else accepted) plus per-test details."""

    verdict: Verdict
    passed: int
    total: int
    tests: list[TestResult] = []
    compile: CompileResult | None = None
    time_s: float = 0.0
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED

    @classmethod
    def sandbox_error(cls, request: JudgeRequest, detail: str) -> JudgeResult:
        """Our failure, not the program's: nothing was judged."""
        return cls(verdict=Verdict.SANDBOX_ERROR, passed=0, total=max(1, len(request.tests)), detail=detail)


class JudgeRequest(BaseModel):
    """A program and its tests. With no stdio tests the program runs once on empty stdin.

    `harness` (the default) judges it as a harness program, test code appended to the solution
    (MultiPL-E, HumanEval-X): it passes when it exits 0, prints the end-of-tests sentinel the sandbox
    adds after its last statement (and, for Go and Rust test runners, reports every test passed), and
    writes none of the language's failure markers to stderr. Without `harness` (`oorl sandbox run`, a
    trusted script) a clean exit within the limits passes."""

    language: str
    code: str
    tests: list[StdioTest] = []
    harness: bool = Field(True, description="with no stdio tests: judge as a harness program")
    checker: Checker = Checker()
    limits: Limits | None = None
    stop_on_failure: bool = True

    @classmethod
    def single_run(
        cls, language: str, code: str, stdin: str | None, limits: Limits | None, *, harness: bool = False
    ) -> JudgeRequest:
        """Run `code` once, on `stdin` if given: accepted iff it exits cleanly within the limits;
        with `harness` (and no stdin), judged as a harness program."""
        tests = [] if stdin is None else [StdioTest(stdin=stdin, expected=None)]
        return cls(language=language, code=code, tests=tests, limits=limits, harness=harness)
