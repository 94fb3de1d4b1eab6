"""The service's worker slots: N one-worker `Sandbox`es, a bounded queue in front, crashed ones restarted.

Each slot is its own `Sandbox(workers=1)`, so one slot can be checked, closed and replaced while the
others keep judging. A slot has crashed when one of its resident processes (the launcher and the
house that every run starts from) is gone; the watchdog looks at idle slots every second, and a run
that ends in a sandbox error looks at its own slot at once. A crashed slot is replaced by a fresh one,
counted, and the run that met the crash is judged again, so an accepted request is never lost to it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from oorl.sandbox import JudgeRequest, JudgeResult, Limits, Sandbox, Verdict


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def house_up(sandbox: Sandbox) -> bool:
    """Whether every resident process of an idle one-worker sandbox is running (a slot that dropped
    its dead house shows its launcher alone). Read twice on a doubt: between runs the next run's
    prepared processes may be swapped in under our eyes."""
    for attempt in range(2):
        pids = sandbox.resident_pids
        if len(pids) >= 2 and all(_running(p) for p in pids):
            return True
        if attempt == 0:
            time.sleep(0.05)
    return False


class SlotPool:
    """`workers` slots judging at most `workers` programs at once; the rest wait in the executor's queue."""

    def __init__(
        self,
        workers: int,
        *,
        limits: Limits | None = None,
        cache_dir: str | os.PathLike | None = None,
        on_restart: Callable[[], None] = lambda: None,
    ):
        self.workers = workers
        self.limits = limits or Limits()
        self._cache_dir = cache_dir
        self._on_restart = on_restart
        self._slots: list[Sandbox | None] = []
        try:
            for _ in range(workers):
                self._slots.append(self._new())
        except BaseException:
            self.close()
            raise
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(workers):
            self._free.put(i)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="oorl-serve")

    def _new(self) -> Sandbox:
        return Sandbox(workers=1, limits=self.limits, cache_dir=self._cache_dir)

    def submit(self, request: JudgeRequest) -> Future[JudgeResult]:
        return self._executor.submit(self._judge, request)

    def _judge(self, request: JudgeRequest) -> JudgeResult:
        i = self._free.get()  # never waits long: there are as many slots as executor threads
        try:
            sandbox = self._slots[i] or self._restart(i)
            if sandbox is None:
                return JudgeResult.sandbox_error(request, "the worker slot cannot start its sandbox")
            try:
                result = sandbox.judge(request)
            except Exception as e:  # a broken slot, not a program failure: judge it again below
                result = JudgeResult.sandbox_error(request, f"the worker slot failed: {e}")
            if result.verdict is Verdict.SANDBOX_ERROR and not house_up(sandbox):
                sandbox = self._restart(i)
                if sandbox is not None:
                    result = sandbox.judge(request)
            return result
        finally:
            self._free.put(i)

    def _restart(self, i: int) -> Sandbox | None:
        """Replace slot `i` (held by the caller) with a fresh sandbox; None if one cannot start.
        The new one starts before the old one goes, so the slot is never seen empty while it can start."""
        old = self._slots[i]
        try:
            self._slots[i] = self._new()
        except Exception:
            self._slots[i] = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()
        self._on_restart()
        return self._slots[i]

    def check(self) -> bool:
        """Restart every idle slot that has crashed; True when every slot is up afterwards."""
        held = []
        with contextlib.suppress(queue.Empty):
            while len(held) < self.workers:
                held.append(self._free.get_nowait())
        try:
            for i in held:
                sandbox = self._slots[i]
                if sandbox is None or not house_up(sandbox):
                    self._restart(i)
            return all(s is not None for s in self._slots)
        finally:
            for i in held:
                self._free.put(i)

    def close(self) -> None:
        if hasattr(self, "_executor"):
            self._executor.shutdown(wait=True)
        for sandbox in self._slots:
            if sandbox is not None:
                sandbox.close()
