"""The only place untrusted code runs.

    from oorl.sandbox import Sandbox, JudgeRequest, StdioTest
    with Sandbox() as sb:
        result = sb.judge(JudgeRequest(language="python", code="print(input())", tests=[StdioTest(stdin="hi", expected="hi")]))
        results = sb.judge_many(requests)          # a worker pool sized to the cores
        result = await sb.ajudge(request)          # asyncio

`RemoteSandbox(urls=[...], token=...)` has the same interface and judges on `oorl sandbox serve`
servers; `open_sandbox(SandboxSettings(...))` gives one or the other.

Every run: an unprivileged user, empty network and PID namespaces, a private writable work dir and
/tmp, the rest of the file system read-only (and only the system directories at that), a scrubbed
environment, limits on wall and CPU time, memory, processes, file size, disk, open files and output;
the whole process tree is gone when a run ends. Compiled programs are cached by content.
"""

from oorl.sandbox.pool import Sandbox
from oorl.sandbox.remote import RemoteSandbox, RemoteSandboxError, SandboxSettings, open_sandbox
from oorl.sandbox.types import (
    Checker,
    CompileResult,
    JudgeRequest,
    JudgeResult,
    Limits,
    StdioTest,
    TestResult,
    Verdict,
)

__all__ = [
    "Checker",
    "CompileResult",
    "JudgeRequest",
    "JudgeResult",
    "Limits",
    "RemoteSandbox",
    "RemoteSandboxError",
    "Sandbox",
    "SandboxSettings",
    "StdioTest",
    "TestResult",
    "Verdict",
    "open_sandbox",
]
