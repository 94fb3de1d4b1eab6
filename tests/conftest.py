"""Test tiers and the one shared sandbox.

Markers (registered in pyproject.toml):
- ``sandbox``: needs root and the sandbox's toolchains (Debian packages installed by scripts/setup.sh).
  A test that asks for the ``sandbox`` fixture gets the marker automatically.
- ``slow``: takes more than a few seconds (torchrun ranks, whole CLI runs).
- ``gpu``: needs a CUDA device; skipped, with that reason, on a machine without one.

``pytest -m "not sandbox and not slow"`` is the fast tier: no root, no toolchain, under a minute.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox():
    """One worker pool per test process, shared by every test that judges with default settings."""
    from oorl.sandbox import Sandbox

    with Sandbox(workers=2) as sb:
        yield sb


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cuda = None
    for item in items:
        if "sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sandbox)
        if item.get_closest_marker("gpu"):
            if cuda is None:
                import torch

                cuda = torch.cuda.is_available()
            if not cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))
