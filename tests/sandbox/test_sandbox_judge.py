"""Judging in all 13 languages: verdicts, the compile cache, batch and async APIs, clear errors."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import tempfile

import pytest

from oorl.langs import get_language
from oorl.sandbox import JudgeRequest, Limits, Sandbox, StdioTest, Verdict
from oorl.sandbox.judge import missing_toolchain
from oorl.sandbox.samples import ADD

TESTS = [
    StdioTest(stdin="1 2\n", expected="3\n"),
    StdioTest(stdin="-5 5\n", expected="0"),
    StdioTest(stdin="40 2\n", expected="42"),
]
# a syntax error in each language
BROKEN = {
    "c": "int main(void){ return 0 }",
    "cpp": "int main(){ return 0 }",
    "java": "public class Main { void }",
    "typescript": "let x: number = 'text';",
    "go": "package main\nfunc main() { x := }",
    "csharp": "class P { void }",
    "scala": "object Main { def main(args: Array[String]) = { val } }",
    "haskell": "main = do\n  let",
    "rust": "fn main() { let }",
}


def test_every_language_judges_stdio_tests(sandbox):
    requests = [JudgeRequest(language=lang, code=code, tests=TESTS) for lang, code in ADD.items()]
    results = sandbox.judge_many(requests)
    for lang, result in zip(ADD, results, strict=True):
        assert result.verdict is Verdict.ACCEPTED, (lang, result.detail, result.compile)
        assert (result.passed, result.total) == (3, 3)
        assert [t.verdict for t in result.tests] == [Verdict.ACCEPTED] * 3


def test_wrong_output_is_wrong_answer_in_every_language(sandbox):
    wrong = [StdioTest(stdin="1 2\n", expected="4\n")]
    results = sandbox.judge_many(
        [JudgeRequest(language=lang, code=code, tests=wrong) for lang, code in ADD.items()]
    )
    assert all(r.verdict is Verdict.WRONG_ANSWER for r in results), [(r.verdict, r.detail) for r in results]
    assert results[0].tests[0].stdout == "3\n" and results[0].tests[0].expected == "4\n"


def test_syntax_errors_are_compile_errors(sandbox):
    results = sandbox.judge_many(
        [JudgeRequest(language=lang, code=code, tests=TESTS) for lang, code in BROKEN.items()]
    )
    for lang, result in zip(BROKEN, results, strict=True):
        assert result.verdict is Verdict.COMPILE_ERROR, (lang, result.verdict)
        assert result.compile is not None and not result.compile.ok and result.compile.output.strip()
        assert result.passed == 0 and result.total == 3


def test_compile_cache_compiles_the_same_source_once(sandbox):
    with tempfile.TemporaryDirectory(dir="/var/tmp") as cache, Sandbox(workers=1, cache_dir=cache) as sb:
        request = JudgeRequest(language="c", code=ADD["c"] + "\n// cache probe", tests=TESTS)
        first, second = sb.judge(request), sb.judge(request)
        assert first.compile.cached is False and second.compile.cached is True
        assert first.verdict is second.verdict is Verdict.ACCEPTED
        other = sb.judge(request.model_copy(update={"code": request.code + " "}))
        assert other.compile.cached is False
        # a cached compile error is still a compile error
        broken = JudgeRequest(language="c", code=BROKEN["c"], tests=TESTS)
        assert sb.judge(broken).verdict is sb.judge(broken).verdict is Verdict.COMPILE_ERROR
        # an entry evicted under a cache that remembers it (another process sharing the directory)
        shutil.rmtree(sb.cache.path(sb.cache.key(get_language("c"), request.code)))
        again = sb.judge(request)
        assert again.verdict is Verdict.ACCEPTED and again.compile.cached is False


def test_a_program_published_again_by_another_process_is_not_judged_by_stale_metadata():
    """A harness program evicted and compiled again elsewhere gets a new end-of-tests nonce: a pool
    that remembered the old entry must read the new one, not fail a correct program."""
    program = JudgeRequest(language="c", code="int main(void) { return 0; }\n")
    with (
        tempfile.TemporaryDirectory(dir="/var/tmp") as cache,
        Sandbox(workers=1, cache_dir=cache) as a,
        Sandbox(workers=1, cache_dir=cache) as b,
    ):
        assert a.judge(program).verdict is Verdict.ACCEPTED  # compiled
        assert a.judge(program).compile.cached is True  # found, and now remembered by a
        box = a.cache.path(a.cache.key(get_language("c"), program.code, harness=True))
        box.with_suffix(".json").unlink()  # evicted, metadata first, as evict() does
        shutil.rmtree(box)
        assert b.judge(program).compile.cached is False  # published again, with a new nonce
        again = a.judge(program)
        assert again.verdict is Verdict.ACCEPTED, again.detail


def test_runtime_error_and_stop_on_failure(sandbox):
    code = "import sys\nn = int(input())\nif n < 0:\n    sys.exit(3)\nprint(n)"
    tests = [StdioTest(stdin="-1", expected="-1"), StdioTest(stdin="2", expected="2")]
    stop = sandbox.judge(JudgeRequest(language="python", code=code, tests=tests))
    assert stop.verdict is Verdict.RUNTIME_ERROR and len(stop.tests) == 1 and stop.detail == "exit code 3"
    every = sandbox.judge(JudgeRequest(language="python", code=code, tests=tests, stop_on_failure=False))
    assert [t.verdict for t in every.tests] == [Verdict.RUNTIME_ERROR, Verdict.ACCEPTED]
    assert (every.passed, every.total) == (1, 2)


@pytest.mark.sandbox
def test_unreachable_cache_dir_is_a_clear_error(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ValueError, match="unreachable for sandboxed programs"):
        Sandbox(workers=1, cache_dir=private / "cache")


def test_cpu_time_limit(sandbox):
    limits = Limits(time_s=10, cpu_s=1)
    result = sandbox.judge(
        JudgeRequest(
            language="c",
            code="int main(void){volatile long x=0;for(;;)x++;}",
            tests=[StdioTest(expected="")],
            limits=limits,
        )
    )
    assert result.verdict is Verdict.TIME_LIMIT and result.tests[0].time_s < 5


def test_harness_failures_that_exit_zero_are_caught(sandbox):
    js = sandbox.run("javascript", "console.assert(1 === 2, 'one is not two');", harness=True)
    assert js.verdict is Verdict.WRONG_ANSWER and js.tests[0].exit_code == 0
    cs = sandbox.run(
        "csharp",
        "using System.Diagnostics;\nclass P { static void Main() { Debug.Assert(1 == 2); } }",
        harness=True,
    )
    assert cs.verdict is Verdict.WRONG_ANSWER and cs.tests[0].exit_code == 0
    ok = sandbox.run("javascript", "console.assert(1 === 1);", harness=True)
    assert ok.verdict is Verdict.ACCEPTED


def test_failed_assertion_is_wrong_answer_and_crash_is_runtime_error(sandbox):
    assert sandbox.run("python", "assert 1 == 2", harness=True).verdict is Verdict.WRONG_ANSWER
    c_assert = "#include <assert.h>\nint main(void){assert(1 == 2);}"
    assert sandbox.run("c", c_assert, harness=True).verdict is Verdict.WRONG_ANSWER
    assert sandbox.run("python", "assert 1 == 2").verdict is Verdict.RUNTIME_ERROR  # no harness: a crash
    segv = sandbox.run("c", "int main(void){volatile int *p = 0; return *p;}")
    assert segv.verdict is Verdict.RUNTIME_ERROR and "SIGSEGV" in segv.detail


def test_empty_program_is_a_clear_compile_error(sandbox):
    result = sandbox.judge(JudgeRequest(language="python", code="  \n", tests=TESTS))
    assert result.verdict is Verdict.COMPILE_ERROR and result.detail == "the program is empty"


def test_non_utf8_output(sandbox):
    code = "import sys\nsys.stdout.buffer.write(b'caf\\xe9\\n')"
    run = sandbox.run("python", code)
    assert run.verdict is Verdict.ACCEPTED and run.tests[0].stdout == "caf\ufffd\n"
    judged = sandbox.judge(JudgeRequest(language="python", code=code, tests=[StdioTest(expected="café\n")]))
    assert judged.verdict is Verdict.WRONG_ANSWER and "not valid UTF-8" in judged.detail


def test_unknown_language_is_reported_not_raised(sandbox):
    result = sandbox.judge(JudgeRequest(language="cobol", code="x", tests=TESTS))
    assert result.verdict is Verdict.SANDBOX_ERROR and "known languages" in result.detail


@pytest.mark.sandbox
def test_missing_toolchain_names_the_package():
    java = get_language("java")
    broken = dataclasses.replace(java, compile=("/usr/bin/javac-missing", "{src}"))
    message = missing_toolchain(broken, "public class Main {}")
    assert "/usr/bin/javac-missing" in message and "apt-get install default-jdk-headless" in message
    assert missing_toolchain(java, "public class Main {}") is None


def test_async_api_matches_batch(sandbox):
    requests = [
        JudgeRequest(language="python", code=f"print({i} * 2)", tests=[StdioTest(expected=f"{i * 2}\n")])
        for i in range(4)
    ]
    results = asyncio.run(sandbox.ajudge_many(requests))
    assert [r.verdict for r in results] == [Verdict.ACCEPTED] * 4
