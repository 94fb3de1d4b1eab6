"""Fixtures for the algorithm tests: one CPU thread, and simulated data-parallel ranks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import torch
from torch import Tensor

torch.set_num_threads(1)

AllReduce = Callable[[Tensor], Tensor]
RankFn = Callable[[AllReduce], Any]


def _run_ranks(rank_fns: list[RankFn]) -> list[Any]:
    """Run ``rank_fns[r](all_reduce)`` for every rank r in its own thread of one process.

    ``all_reduce(x)`` behaves like ``torch.distributed.all_reduce(x, SUM)``: it blocks until every
    rank has made the same call, and returns the sum of the tensors all ranks passed. Two barriers per
    call keep consecutive reductions apart; the timeout turns a rank that died into an error instead
    of a hang.
    """
    world_size = len(rank_fns)
    barrier = threading.Barrier(world_size, timeout=30)
    slots: list[Tensor | None] = [None] * world_size

    def make_all_reduce(rank: int) -> AllReduce:
        def all_reduce(x: Tensor) -> Tensor:
            slots[rank] = x.detach().clone()
            barrier.wait()  # every rank has written
            total = torch.stack(slots).sum(0)  # type: ignore[arg-type]
            barrier.wait()  # every rank has read, before anyone writes the next call's value
            return total

        return all_reduce

    with ThreadPoolExecutor(world_size) as pool:
        futures = [pool.submit(fn, make_all_reduce(rank)) for rank, fn in enumerate(rank_fns)]
        return [f.result() for f in futures]


@pytest.fixture
def run_ranks() -> Callable[[list[RankFn]], list[Any]]:
    """Simulated data-parallel ranks in one process; see :func:`_run_ranks`."""
    return _run_ranks
