"""Fixtures for the reward tests: one sandbox pool for the session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox():
    from oorl.sandbox import Sandbox

    with Sandbox(workers=2) as sb:
        yield sb
