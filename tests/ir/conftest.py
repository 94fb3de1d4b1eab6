"""Fixtures for the IR-group tests: small C sources, the bundled data."""

from __future__ import annotations

import pytest
from ir_cases import MAX_LOOP

from oorl.ir.normalize import normalize_ir
from oorl.ir.toolchain import compile_one


@pytest.fixture(scope="session")
def max_ir_o0() -> tuple[str, object]:
    """(normalised -O0 IR, exec info) of MAX_LOOP."""
    out = compile_one(MAX_LOOP, "O0")
    assert out.ok, out.error
    return normalize_ir(out.ir)
