"""Fixtures for the task tests: the copied hub fixtures and one sandbox pool for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def sandbox():
    from oorl.sandbox import Sandbox

    with Sandbox(workers=2) as sb:
        yield sb
