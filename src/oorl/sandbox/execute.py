"""One isolated process run: the mechanism under every compile and every test (see `isolation.py`)."""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable
from pathlib import Path

from oorl.sandbox.clients import LauncherLost, Run
from oorl.sandbox.runs import BASE_ENV, ExecResult, RunLimits, SandboxUnavailable
from oorl.sandbox.slot import Slot


def execute(
    argv: list[str] | tuple[str, ...],
    *,
    slot: Slot,
    limits: RunLimits,
    stdin: bytes = b"",
    box: Path | None = None,
    box_writable: bool = False,
    env: dict[str, str] | None = None,
) -> ExecResult:
    """Run `argv` in the sandbox of `slot`; `box` (under the slot's cache root) is bound at /box,
    writable for a compile step.

    CPU time is a budget for the whole run, all its processes together: the slot's CPU accounting
    cgroup is watched during the run (the run is killed once the budget is spent) and the run's init
    reports the exact total at the end. RLIMIT_CPU stays as each process's own backstop: SIGXCPU at
    the soft limit, SIGKILL a second later for a program that ignores it."""
    cpu = max(1, int(limits.cpu_s + 0.999))
    file_size = limits.file_size_mb * 2**20
    rlimits = [
        ("RLIMIT_CORE", 0, 0),
        ("RLIMIT_CPU", cpu, cpu + 1),
        ("RLIMIT_FSIZE", file_size, file_size),
        ("RLIMIT_NOFILE", limits.open_files, limits.open_files),
        ("RLIMIT_NPROC", limits.processes, limits.processes),  # counted in the run's user namespace
    ]
    request = {
        "argv": list(argv),
        "env": {**BASE_ENV, **(env or {})},
        "wall_s": limits.wall_s,
        "box": None if box is None else slot.relative(box),
        "box_writable": box_writable,
        "disk_bytes": limits.disk_mb * 2**20,
        "cwd": "/box" if box is not None and box_writable else "/tmp",
    }
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    # Our ends as file objects: each is closed exactly once (a second close of a bare fd number could
    # close a file another thread has just opened under the same number)
    stdin_f = open(stdin_w, "wb", buffering=0)  # noqa: SIM115 - closed below
    ours = [stdin_f, *(open(fd, "rb", buffering=0) for fd in (out_r, err_r))]  # noqa: SIM115
    stdin = _prefill(stdin_f, stdin)
    start = time.monotonic()
    try:
        try:
            slot.configure(limits)
            if slot.memory_cg is None and limits.as_headroom_mb is not None:
                address_space = (limits.memory_mb + limits.as_headroom_mb) * 2**20
                rlimits.append(("RLIMIT_AS", address_space, address_space))
            proc = slot.house().start([stdin_r, out_w, err_w], rlimits=rlimits, **request)
        except (OSError, LauncherLost, SandboxUnavailable) as e:
            if isinstance(e, LauncherLost):
                slot.drop_house()
            return ExecResult(
                None, None, b"", b"", 0.0, setup_failed=True, setup_error=f"cannot start the sandbox: {e}"
            )
        finally:
            for fd in (stdin_r, out_w, err_w):  # the run server holds its own copies
                os.close(fd)
        cpu = _CpuBudget(slot.cpu_seconds, limits.cpu_s)
        try:
            out, err, timed_out, exceeded = _communicate(proc, stdin, *ours, limits, cpu)
        finally:
            _stop(proc)  # once it returns, nothing of the run is left (its PID namespace is gone)
            if proc.lost:
                slot.drop_house()
    finally:
        for f in ours:
            f.close()
    result = ExecResult(
        exit_code=None,
        signal=None,
        stdout=out,
        stderr=err,
        wall_s=time.monotonic() - start,
        timed_out=timed_out,
        output_exceeded=exceeded,
        oom_killed=slot.oom_killed(),
        cpu_s=proc.cpu_s,
        cpu_exceeded=cpu.exceeded or (proc.cpu_s is not None and proc.cpu_s > limits.cpu_s),
    )
    if proc.error or proc.lost:
        result.setup_failed = True
        result.setup_error = (
            f"cannot start the sandbox: {proc.error}"
            if proc.error
            else "the sandbox house died during the run"
        )
    elif proc.returncode < 0:
        result.signal = -proc.returncode
    else:
        result.exit_code = proc.returncode
    return result


def _prefill(stdin_f, stdin: bytes) -> memoryview:
    """Write what the empty pipe takes of `stdin` now (all of it, for a typical test), closing it if
    that was all; returns the rest, for `_communicate` to feed as the program reads."""
    if not stdin:
        return memoryview(stdin)
    os.set_blocking(stdin_f.fileno(), False)
    try:
        n = os.write(stdin_f.fileno(), stdin)
    except BlockingIOError:
        n = 0
    if n == len(stdin):
        stdin_f.close()
    return memoryview(stdin)[n:]


class _CpuBudget:
    """The run's CPU time so far, from a reading of the slot's CPU accounting (None without one)."""

    INTERVAL_S = 0.1  # how often a run that is still going is checked

    def __init__(self, used: Callable[[], float | None], budget_s: float):
        self._used, self.budget_s = used, budget_s
        self._start = used()
        self.exceeded = False

    @property
    def watched(self) -> bool:
        return self._start is not None

    def spent(self) -> bool:
        used = self._used()
        self.exceeded = used is not None and used - self._start > self.budget_s
        return self.exceeded


def _communicate(
    proc: Run,
    stdin: bytes | memoryview,
    stdin_f,
    stdout_f,
    stderr_f,
    limits: RunLimits,
    cpu: _CpuBudget | None = None,
) -> tuple[bytes, bytes, bool, bool]:
    """Feed (the rest of) stdin, collect stdout/stderr up to the output cap until the run is over (its
    status comes once every process of it is gone, so both pipes are closed by then), and stop at the
    wall-clock limit or once the CPU budget is spent (`cpu.exceeded`). Returns (stdout, stderr,
    timed_out, output_exceeded)."""
    cap = limits.output_bytes
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + limits.wall_s
    poller = select.poll()  # a few fds, once: cheaper than an epoll instance per run
    outputs = {stdout_f.fileno(): out, stderr_f.fileno(): err}
    for fd in outputs:
        poller.register(fd, select.POLLIN)
    sock = proc.server.sock.fileno()
    poller.register(sock, select.POLLIN)  # its messages, or a lost server
    view, stdin_fd = memoryview(stdin), stdin_f.fileno() if stdin else -1
    if stdin:
        os.set_blocking(stdin_fd, False)
        poller.register(stdin_fd, select.POLLOUT)
    else:
        stdin_f.close()
    timed_out = exceeded = done = False
    readers = 2  # stdout and stderr, until their EOF
    watch_cpu = cpu is not None and cpu.watched
    next_check = time.monotonic() + (cpu.INTERVAL_S if watch_cpu else 1e9)
    try:
        while (readers or not done) and not exceeded:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if now >= next_check:
                if cpu.spent():
                    break
                next_check = now + cpu.INTERVAL_S
            for fd, _ in poller.poll(max(0.0, min(deadline, next_check, now + 1.0) - now) * 1000):
                if fd == stdin_fd:
                    try:
                        n = os.write(fd, view[:65536])
                    except BlockingIOError:
                        n = 0
                    except OSError:  # the program closed its stdin
                        n = len(view)
                    view = view[n:]
                    if not view:
                        poller.unregister(fd)
                        stdin_f.close()
                elif fd == sock:
                    if proc.poll():
                        poller.unregister(fd)
                        done = True  # what is left of stdin has nobody to read it
                else:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        poller.unregister(fd)
                        readers -= 1
                        continue
                    outputs[fd].extend(chunk)
                    if len(out) + len(err) > cap:
                        exceeded = True
                        break
    finally:
        with contextlib.suppress(OSError):
            stdin_f.close()
    return bytes(out[:cap]), bytes(err[: max(0, cap - len(out))]), timed_out, exceeded


def _stop(proc: Run) -> None:
    """End a run: its status comes once its PID namespace is gone."""
    if not proc.poll():
        proc.kill()
        if not proc.wait(timeout=30):
            proc.lost = True  # the run server does not answer: the slot replaces its house
