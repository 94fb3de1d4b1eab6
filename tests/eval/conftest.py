"""Fixtures for the evaluation tests: a judge that counts its calls."""

from __future__ import annotations

import threading

import pytest


class CountingJudge:
    """The sandbox, counting every judged request (from any thread)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.workers = sandbox.workers
        self.calls = 0
        self.codes: list[str] = []
        self._lock = threading.Lock()

    def judge(self, request):
        with self._lock:
            self.calls += 1
            self.codes.append(request.code)
        return self.sandbox.judge(request)


@pytest.fixture
def counting(sandbox):
    """A factory: each call gives a fresh counting judge over the shared pool."""
    return lambda: CountingJudge(sandbox)
