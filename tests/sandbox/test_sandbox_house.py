"""Runs of one slot share its house (bwrap and its run server): nothing of one run reaches the next, a
run cannot reach the house or the compile cache, and a house that dies is replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from leftovers import sandbox_processes

from oorl.sandbox import Sandbox, Verdict
from oorl.sandbox.clients import Run, Server
from oorl.sandbox.execute import _communicate, execute
from oorl.sandbox.runs import RunLimits


@pytest.fixture(scope="module")
def sandbox():
    # a slot and a cache of its own: these tests inspect the house's processes and cache files
    with tempfile.TemporaryDirectory() as cache, Sandbox(workers=1, cache_dir=cache) as sb:
        yield sb


def bash(sandbox: Sandbox, script: str) -> str:
    result = sandbox.run("bash", script)
    assert result.verdict is Verdict.ACCEPTED, (result.detail, result.tests[0].stderr)
    return result.tests[0].stdout


def test_nothing_of_a_run_reaches_the_next(sandbox):
    bash(
        sandbox,
        "echo left > /tmp/left; echo left > /dev/shm/left; ipcmk -M 4096 >/dev/null; ipcmk -Q >/dev/null\n"
        "(trap '' HUP; setsid sleep 300 &) ; hostname changed 2>/dev/null; echo planted",
    )
    assert sandbox_processes(sandbox) == []
    seen = bash(
        sandbox,
        "ls -A /tmp /dev/shm; ipcs -m | grep -c '^0x' || true; ipcs -q | grep -c '^0x' || true; "
        "hostname; for comm in /proc/[0-9]*/comm; do read -r name < $comm; echo $name; done",
    )
    # the processes (builtins only, so no others): the run's init and this script
    assert seen.split() == ["/dev/shm:", "/tmp:", "0", "0", "sandbox", "oorl-init", "bash"], seen


def test_a_run_sees_neither_the_cache_nor_the_house(sandbox):
    sandbox.run("python", "print('another program')")  # something else in the cache
    seen = bash(
        sandbox,
        "ls -A /.oorl 2>/dev/null || echo 'no cache'; umount /.oorl 2>/dev/null || echo 'no umount'\n"
        "unshare -Urm sh -c 'umount -l /.oorl; ls /.oorl/cache' 2>/dev/null || echo 'no cache as nested root'\n"
        "ls /proc | grep '^[0-9]' | head -1; kill -KILL 1; kill -TERM 1; kill -INT 1; echo alive\n"
        "cat /proc/1/environ 2>/dev/null || echo 'no init environ'\n"
        "grep -c . /proc/1/maps 2>/dev/null || echo 'no init maps'",
    )
    assert seen.splitlines() == [
        "no cache",
        "no umount",
        "no cache as nested root",
        "1",
        "alive",
        "no init environ",
        "no init maps",
    ], seen


def test_a_program_has_no_capability_and_a_user_namespace_of_its_own(sandbox):
    """Every capability set empty, no_new_privs, both seccomp filters (the server's, the runner's), and
    a user namespace that maps only the run's own uid and gid."""
    script = (
        "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; echo uid $(cat /proc/self/uid_map); "
        "echo gid $(cat /proc/self/gid_map); id -u"
    )
    first = bash(sandbox, script)
    fields = dict(line.split(None, 1) for line in first.splitlines()[:-1])
    uid = first.splitlines()[-1]
    assert {k: v for k, v in fields.items() if k.startswith("Cap")} == {
        f"{k}:": "0000000000000000" for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    }, first
    assert (fields["NoNewPrivs:"], fields["Seccomp:"], fields["Seccomp_filters:"]) == ("1", "2", "2"), first
    assert fields["uid"] == f"{uid} {uid} 1" and fields["gid"].split()[2] == "1", first


def test_a_dead_house_is_replaced(sandbox):
    assert bash(sandbox, "echo one") == "one\n"
    before = sandbox.resident_pids
    for pid in before:  # launcher, bwrap and run server alike (some die with the others first)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert bash(sandbox, "echo two") == "two\n"
    assert sandbox.resident_pids and not sandbox.resident_pids & before


def test_the_next_run_is_prepared_but_a_running_program_is_never_the_house_s(sandbox):
    """Between runs the slot's own processes include the next run's init and runner, waiting for its
    request; while a run is in flight none of its processes count as the slot's own."""
    bash(sandbox, "true")
    assert sandbox_processes(sandbox) == []
    slot, deadline = sandbox._all_slots[0], time.monotonic() + 5
    while len(spare := slot.resident_pids - slot._house.resident) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the server has prepared it
    assert len(spare) == 2  # the prepared init and runner
    with ThreadPoolExecutor(1) as pool:
        # one process, no children: shaped like a waiting runner, yet a run's
        running = pool.submit(bash, sandbox, "exec python3 -c 'import time; time.sleep(1); print(1)'")
        deadline = time.monotonic() + 5
        while not (seen := sandbox_processes(sandbox, settle_s=0)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen, "the running program was taken for one of the house's processes"
        assert running.result() == "1\n"
    assert sandbox_processes(sandbox) == []


def test_a_program_holds_only_its_stdin_stdout_and_stderr(sandbox):
    code = "import os\nprint([fd for fd in range(1024) if os.path.exists(f'/proc/self/fd/{fd}')])"
    result = sandbox.run("python", code)
    assert result.verdict is Verdict.ACCEPTED, result.detail
    assert result.tests[0].stdout == "[0, 1, 2]\n"


LIMITS = RunLimits(
    wall_s=5,
    cpu_s=5,
    memory_mb=64,
    processes=8,
    file_size_mb=1,
    disk_mb=16,
    open_files=64,
    output_bytes=4096,
    as_headroom_mb=None,
)


def test_a_program_that_cannot_start_is_the_sandbox_s_fault(sandbox):
    result = execute(["/usr/bin/no-such-program"], slot=sandbox._all_slots[0], limits=LIMITS)
    assert result.setup_failed and "/usr/bin/no-such-program" in result.setup_error, result
    assert "No such file" in result.setup_error
    assert bash(sandbox, "echo still") == "still\n"  # the house is fine


def test_a_status_that_arrives_before_we_feed_stdin():
    """A fast program can be over, its status waiting, before we write its stdin or read a byte."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = Server()
    server.sock = ours
    run = Run(server, 1)
    theirs.send(b'{"id": 1, "status": 0}')
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.close(out_w)  # the program is gone: its output is at EOF
    os.close(err_w)
    files = [open(fd, mode, buffering=0) for fd, mode in ((stdin_w, "wb"), (out_r, "rb"), (err_r, "rb"))]  # noqa: SIM115
    try:
        assert _communicate(run, b"1 2\n", *files, LIMITS) == (b"", b"", False, False)
        assert run.returncode == 0
    finally:
        for f in [*files, ours, theirs]:
            f.close()
        os.close(stdin_r)
