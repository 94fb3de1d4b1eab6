"""Hostile programs get their proper verdict, the host is unaffected and nothing is left behind."""

from __future__ import annotations

import contextlib
import os
import socket
import threading

import pytest
from hostile_programs import PROGRAMS
from leftovers import describe, sandbox_processes

from oorl.sandbox import JudgeRequest, Limits, Sandbox, StdioTest, Verdict

LIMITS = Limits(time_s=3, memory_mb=256, output_mb=8, disk_mb=64, open_files=256, processes=64)
LANGS = sorted(PROGRAMS)
SECRET = "oorl-host-secret-3f9c"


def run(sandbox: Sandbox, lang: str, behaviour: str, stdin: str = "", limits: Limits | None = None) -> tuple:
    request = JudgeRequest(
        language=lang,
        code=PROGRAMS[lang][behaviour],
        tests=[StdioTest(stdin=stdin, expected=None)],
        limits=limits or LIMITS,
    )
    result = sandbox.judge(request)
    assert result.verdict is not Verdict.SANDBOX_ERROR, result.detail
    assert result.verdict is not Verdict.COMPILE_ERROR, (
        result.compile.output if result.compile else result.detail
    )
    left = sandbox_processes(sandbox)
    assert left == [], f"{lang}/{behaviour} left processes behind: {describe(left)}"
    return result, result.tests[0]


@pytest.mark.parametrize("lang", LANGS)
def test_infinite_loop_is_time_limit(sandbox, lang):
    result, test = run(sandbox, lang, "loop")
    assert result.verdict is Verdict.TIME_LIMIT
    assert test.time_s < LIMITS.time_s + 2


@pytest.mark.parametrize("lang", LANGS)
def test_fork_bomb_is_contained(sandbox, lang):
    result, test = run(sandbox, lang, "fork")
    assert test.time_s < LIMITS.time_s + 2
    assert result.verdict in (Verdict.TIME_LIMIT, Verdict.RUNTIME_ERROR, Verdict.MEMORY_LIMIT)
    if lang == "bash":  # bash reports each fork the process limit refused
        assert "fork: retry: Resource temporarily unavailable" in test.stderr, test.stderr[-500:]
    # the host can still start processes
    assert os.system("true") == 0


@pytest.mark.parametrize("lang", LANGS)
def test_memory_hog_is_memory_limit(sandbox, lang):
    # a small limit and a long clock: bash needs seconds to grow a string past 100 MiB
    result, _ = run(sandbox, lang, "memory", limits=LIMITS.model_copy(update={"memory_mb": 96, "time_s": 15}))
    assert result.verdict is Verdict.MEMORY_LIMIT


@pytest.mark.parametrize("lang", LANGS)
def test_no_network_outside_or_to_host_loopback(sandbox, lang):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []

    def serve():
        with contextlib.suppress(OSError):
            accepted.append(server.accept())

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result, test = run(sandbox, lang, "net", stdin=str(server.getsockname()[1]))
    finally:
        thread.join()
        server.close()
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    assert test.stdout.split() == ["blocked", "blocked"]
    assert accepted == []


@pytest.mark.parametrize("lang", LANGS)
def test_host_secrets_are_unreadable(sandbox, lang, monkeypatch):
    monkeypatch.setenv("OORL_TEST_SECRET", SECRET)
    result, test = run(sandbox, lang, "secrets", stdin=str(os.getpid()))
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    output = test.stdout + test.stderr
    assert SECRET not in output
    assert "/etc/shadow denied" in output and "root:" not in output
    assert f"/proc/{os.getpid()}/environ denied" in output
    assert "/root denied" in output
    # nothing of the host's environment or paths shows in any process's environment
    assert os.getcwd() not in output and "/root" not in output.replace("/root denied", "")


@pytest.mark.parametrize("lang", LANGS)
def test_cannot_write_outside_the_work_dir(sandbox, lang):
    result, test = run(sandbox, lang, "write")
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    lines = test.stdout.splitlines()
    assert len(lines) == 4 and all(line.endswith(" denied") for line in lines), lines
    for path in ("/usr/oorl_probe", "/etc/oorl_probe", "/oorl_probe"):
        assert not os.path.exists(path)


@pytest.mark.parametrize("lang", LANGS)
def test_daemonised_children_do_not_outlive_the_run(sandbox, lang):
    result, test = run(sandbox, lang, "daemon")  # run() asserts no process is left
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    assert "parent done" in test.stdout


@pytest.mark.parametrize("lang", LANGS)
def test_100mb_to_stdout_is_output_limit(sandbox, lang):
    result, test = run(sandbox, lang, "flood")
    assert result.verdict is Verdict.OUTPUT_LIMIT
    assert len(test.stdout.encode()) <= LIMITS.output_mb * 2**20


@pytest.mark.parametrize("lang", LANGS)
def test_filling_the_disk_stops_at_the_disk_limit(sandbox, lang):
    before = os.statvfs("/").f_bfree
    result, test = run(sandbox, lang, "disk")
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    written_mb = int(test.stdout.split()[-1])
    # files of 8 MiB until a write fails: the last one never completes, so 7/8 of the cap or more
    assert LIMITS.disk_mb - 16 <= written_mb <= LIMITS.disk_mb
    # the host's disk did not absorb it (allow for unrelated activity)
    assert before - os.statvfs("/").f_bfree < (LIMITS.disk_mb * 2**20) // os.statvfs("/").f_frsize


@pytest.mark.parametrize("lang", LANGS)
def test_signalling_the_parent_cannot_reach_the_host(sandbox, lang):
    result, _ = run(sandbox, lang, "signal")
    assert result.verdict in (Verdict.ACCEPTED, Verdict.RUNTIME_ERROR)
    # we are alive, and the pool still judges
    again = sandbox.run("python", "print(6 * 7)")
    assert again.verdict is Verdict.ACCEPTED and again.tests[0].stdout == "42\n"


@pytest.mark.parametrize("lang", LANGS)
def test_ten_thousand_open_files_hit_the_limit(sandbox, lang):
    result, test = run(sandbox, lang, "files")
    assert result.verdict is Verdict.ACCEPTED, test.stderr
    # the runtime's own descriptors (stdio, the JVM's jars, node's pipes) count against the limit too
    assert LIMITS.open_files - 32 <= int(test.stdout.split()[-1]) <= LIMITS.open_files
