"""The worker pool: one isolated slot per worker, batch and asyncio APIs."""

from __future__ import annotations

import asyncio
import os
import queue
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from oorl.sandbox.cache import CompileCache
from oorl.sandbox.judge import judge
from oorl.sandbox.slot import Slot
from oorl.sandbox.types import JudgeRequest, JudgeResult, Limits


class Sandbox:
    """A pool of `workers` sandbox slots (default: one per core) sharing one compile cache.

    Threads are enough: each worker only waits on its child process, which does the work.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        limits: Limits | None = None,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.workers = workers or os.cpu_count() or 1
        self.limits = limits or Limits()
        self.cache = CompileCache(cache_dir)
        self._slots: queue.SimpleQueue[Slot] = queue.SimpleQueue()
        self._all_slots: list[Slot] = []
        try:
            for _ in range(self.workers):
                slot = Slot(self.cache.root)
                self._all_slots.append(slot)
                slot.house()  # start it now: the first run should not pay for it
                self._slots.put(slot)
        except BaseException:
            for slot in self._all_slots:
                slot.close()
            raise
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="oorl-sandbox")

    @property
    def uids(self) -> list[int]:
        """The unprivileged uids this pool's runs execute as."""
        return [slot.uid for slot in self._all_slots]

    @property
    def resident_pids(self) -> frozenset[int]:
        """Host pids of the pool's long-lived processes (each slot's launcher, bwrap and run server),
        which run as those uids too: every other process of theirs belongs to a run."""
        return frozenset().union(*(slot.resident_pids for slot in self._all_slots))

    def judge(self, request: JudgeRequest) -> JudgeResult:
        slot = self._slots.get()
        try:
            return judge(request, slot=slot, cache=self.cache, default_limits=self.limits)
        finally:
            self._slots.put(slot)

    def imap(self, requests: Sequence[JudgeRequest]) -> Iterator[JudgeResult]:
        """Results in request order, each as soon as it and all before it are done."""
        return self._executor.map(self.judge, requests)

    def judge_many(
        self, requests: Sequence[JudgeRequest], *, progress: bool | str = False
    ) -> list[JudgeResult]:
        if not progress:
            return list(self.imap(requests))
        from rich.progress import Progress

        description = progress if isinstance(progress, str) else "judging"
        with Progress(transient=True) as bar:
            task = bar.add_task(description, total=len(requests))
            results = []
            for result in self.imap(requests):
                results.append(result)
                bar.advance(task)
        return results

    async def ajudge(self, request: JudgeRequest) -> JudgeResult:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.judge, request)

    async def ajudge_many(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        return list(await asyncio.gather(*(self.ajudge(r) for r in requests)))

    def run(
        self,
        language: str,
        code: str,
        stdin: str | None = None,
        limits: Limits | None = None,
        *,
        harness: bool = False,
    ) -> JudgeResult:
        """Run a program once, on `stdin` if given: accepted iff it exits cleanly within the limits;
        with `harness` (and no stdin), judged as a harness program (see `JudgeRequest`)."""
        return self.judge(JudgeRequest.single_run(language, code, stdin, limits, harness=harness))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for slot in self._all_slots:
            slot.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
