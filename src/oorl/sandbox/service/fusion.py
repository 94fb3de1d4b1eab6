"""SandboxFusion's `/run_code` API on top of our judge: its request and response models, and the two
pure translations between them and `JudgeRequest` / `JudgeResult`.

Field names, status values and defaults follow the `sandbox-fusion` client package (0.3.7,
`sandbox_fusion/models.py`) so that verl's and OpenRLHF's sandbox rewards work unchanged. Semantics:

- `status` is `Success` when the program compiled, ran to completion within its limits and exited 0;
  `Failed` for any program failure; `SandboxError` only for our own infrastructure failure.
- A program that hits the output or memory limit is `Failed`, never `Success` (its output is cut),
  and our precise verdict rides along in the extra `verdict` / `detail` fields.
- `files` are written into the run's working directory before the program starts and `fetch_files`
  are read back from it afterwards; both work for interpreted languages (see `wrap_files`).
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
import signal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from oorl.langs import Language, UnknownLanguageError, get_language
from oorl.sandbox.types import JudgeRequest, JudgeResult, Limits, StdioTest, Verdict

# SandboxFusion's names for our languages; every other name is looked up in our registry as is.
FUSION_NAMES = {"nodejs": "javascript", "go_test": "go"}
# Our limit fields and the request fields they come from, to name the right one in a 422.
FUSION_FIELDS = {"time_s": "run_timeout", "compile_time_s": "compile_timeout", "memory_mb": "memory_limit_MB"}
FILES_MARK = "\n__oorl_fetch_files_4f1c__\n"  # between the program's stdout and the fetched files
COMPILE_TIMEOUT = re.compile(r"\[compile step exceeded [\d.]+ s\]")  # how judge.py marks it


class RunCodeRequest(BaseModel):
    """SandboxFusion's request; `memory_limit_MB` <= 0 means the server's default."""

    model_config = ConfigDict(extra="ignore")

    code: str = Field(description="the program's source")
    language: str = Field(description="SandboxFusion's language name (python, cpp, nodejs, ...) or ours")
    stdin: str | None = Field(None, description="standard input (None: empty)")
    compile_timeout: float = Field(10, gt=0, description="seconds for the compile step")
    run_timeout: float = Field(10, gt=0, description="seconds for the run")
    memory_limit_MB: int = Field(-1, description="memory for the run in MiB (<= 0: the server's default)")
    files: dict[str, str | None] = Field({}, description="path -> base64 content, written beside the program")
    fetch_files: list[str] = Field([], description="paths returned base64 after the run")


class CommandRunResult(BaseModel):
    status: Literal["Finished", "Error", "TimeLimitExceeded"]
    execution_time: float | None = None
    cpu_time: float | None = None
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class RunCodeResponse(BaseModel):
    status: Literal["Success", "Failed", "SandboxError"]
    message: str = ""
    compile_result: CommandRunResult | None = None
    run_result: CommandRunResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = {}
    # ours, beyond SandboxFusion's schema: the judge's verdict and why
    verdict: Verdict
    detail: str = ""


class UnsupportedRequest(ValueError):
    """A request we cannot serve (unknown language, files for a compiled language): a 400."""


def fusion_language(name: str) -> Language:
    try:
        return get_language(FUSION_NAMES.get(name, name))
    except UnknownLanguageError as e:
        raise UnsupportedRequest(f"language {name!r} is not offered by this sandbox; {e}") from None


def to_judge_request(req: RunCodeRequest, defaults: Limits) -> JudgeRequest:
    """One run on `stdin`, with SandboxFusion's timeouts and memory limit over the server's defaults."""
    lang = fusion_language(req.language)
    update: dict = {"time_s": req.run_timeout, "cpu_s": None, "compile_time_s": req.compile_timeout}
    if req.memory_limit_MB > 0:
        update["memory_mb"] = req.memory_limit_MB
    limits = Limits.model_validate({**defaults.model_dump(), **update})
    code, language = req.code, lang.name
    if req.files or req.fetch_files:
        code, language = wrap_files(lang, req.code, req.files, req.fetch_files, limits), "bash"
    return JudgeRequest(
        language=language,
        code=code,
        tests=[StdioTest(stdin=req.stdin or "", expected=None)],
        limits=limits,
    )


def wrap_files(
    lang: Language, code: str, files: dict[str, str | None], fetch: list[str], limits: Limits
) -> str:
    """A bash program that writes `files` and the source into the run's working directory, runs the
    interpreter there, then prints each of `fetch` base64 after a marker. Compiled languages compile
    into the read-only cache, so they cannot see uploaded files: those get a 400."""
    if lang.compile_argv(code) is not None:
        raise UnsupportedRequest(f"files / fetch_files work with interpreted languages only, not {lang.name}")
    for path in (*files, *fetch):
        if not path or path.startswith("/") or ".." in path.split("/") or "\0" in path:
            raise UnsupportedRequest(f"file path {path!r} must be relative, without '..'")
    lines = ["set -e", "cd /tmp"]
    for path, content in files.items():
        try:
            base64.b64decode(content or "", validate=True)
        except (binascii.Error, ValueError):
            raise UnsupportedRequest(f"files[{path!r}] is not base64") from None
        q = shlex.quote(path)
        lines += [
            f'mkdir -p -- "$(dirname -- {q})"',
            f"base64 -d > {q} <<'__OORL_B64__'",
            content or "",
            "__OORL_B64__",
        ]
    src = lang.file_name(code)
    body = code if code.endswith("\n") else code + "\n"
    marker = _heredoc_marker(body)
    lines += [f"cat > {shlex.quote(src)} <<'{marker}'", body.rstrip("\n"), marker, "set +e"]
    argv = [a.replace("/box/", "/tmp/") for a in lang.run_argv(code, max(32, limits.memory_mb * 3 // 4))]
    env = "".join(f"{shlex.quote(f'{k}={v}')} " for k, v in lang.env.items())
    lines.append(f"env {env}{shlex.join(argv)}")
    lines += ["rc=$?", f"printf %s {shlex.quote(FILES_MARK)}"]
    for path in fetch:
        q = shlex.quote(path)
        lines.append(f"if [ -f {q} ]; then printf '%s\\t' {q}; base64 -w0 {q}; echo; fi")
    lines.append("exit $rc")
    return "\n".join(lines) + "\n"


def _heredoc_marker(body: str) -> str:
    marker, n = "__OORL_SRC__", 0
    while re.search(rf"^{marker}$", body, re.MULTILINE):
        n += 1
        marker = f"__OORL_SRC_{n}__"
    return marker


def split_fetched(stdout: str) -> tuple[str, dict[str, str]]:
    """The program's own stdout and the fetched files (path -> base64) that `wrap_files` printed."""
    head, found, tail = stdout.rpartition(FILES_MARK)
    if not found:
        return stdout, {}
    files = {}
    for line in tail.splitlines():
        path, sep, content = line.partition("\t")
        if sep:
            files[path] = content
    return head, files


def _return_code(exit_code: int | None, detail: str) -> int | None:
    """Like SandboxFusion (asyncio's returncode): the exit status, or -N for death by signal N."""
    if exit_code is not None:
        return exit_code
    m = re.search(r"signal (SIG\w+|\d+)", detail)
    if m is None:
        return None
    name = m.group(1)
    return -(int(name) if name.isdigit() else int(signal.Signals[name]))


def to_fusion_response(result: JudgeResult, lang: Language, code: str, *, fetch: bool) -> RunCodeResponse:
    if result.verdict is Verdict.SANDBOX_ERROR:
        return RunCodeResponse(
            status="SandboxError", message=result.detail, verdict=result.verdict, detail=result.detail
        )
    compile_result = None
    if result.compile is not None and lang.compile_argv(code) is not None:
        compile_result = CommandRunResult(
            status="TimeLimitExceeded" if COMPILE_TIMEOUT.search(result.compile.output) else "Finished",
            execution_time=result.compile.time_s,
            return_code=0 if result.compile.ok else 1,
            stdout=result.compile.output,
            stderr="",
        )
    if result.verdict is Verdict.COMPILE_ERROR or not result.tests:
        return RunCodeResponse(
            status="Failed",
            message=result.detail,
            compile_result=compile_result,
            verdict=result.verdict,
            detail=result.detail,
        )
    test = result.tests[0]
    stdout, files = split_fetched(test.stdout) if fetch else (test.stdout, {})
    return_code = _return_code(test.exit_code, test.detail)
    timed_out = test.verdict is Verdict.TIME_LIMIT
    run_result = CommandRunResult(
        status="TimeLimitExceeded" if timed_out else "Finished",
        execution_time=test.time_s,
        return_code=return_code,
        stdout=stdout,
        stderr=test.stderr,
    )
    # SandboxFusion's Success is "ran and exited 0": harness failure markers in the output do not count
    # here (the output may be exactly what was asked for), the limits do.
    ok = test.verdict is Verdict.ACCEPTED or (test.verdict is Verdict.WRONG_ANSWER and return_code == 0)
    return RunCodeResponse(
        status="Success" if ok else "Failed",
        message="" if ok else test.detail,
        compile_result=compile_result,
        run_result=run_result,
        files=files,
        verdict=result.verdict,
        detail=result.detail,
    )
