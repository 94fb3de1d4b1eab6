"""Output comparison: exact, tolerant (line endings, trailing whitespace, floats) and APPS' rules."""

import pytest

from oorl.sandbox.compare import apps_equal, outputs_match, tolerant_equal
from oorl.sandbox.types import Checker


@pytest.mark.parametrize(
    ("output", "expected"),
    [("3\n", "3"), ("3\r\n", "3\n"), ("1 2  \n3\n\n\n", "1 2\n3"), ("a\r\nb\r\n", "a\nb")],
)
def test_tolerant_ignores_line_endings_and_trailing_space(output, expected):
    assert tolerant_equal(output, expected)


@pytest.mark.parametrize(
    ("output", "expected"), [("1 2\n", "2 1\n"), ("YES", "yes"), ("1\n\n2", "1\n2"), (" 3", "3")]
)
def test_tolerant_keeps_order_case_and_leading_space(output, expected):
    assert not tolerant_equal(output, expected)


def test_float_tolerance_is_opt_in_and_bounded():
    assert not tolerant_equal("0.3333333", "0.333333")
    assert tolerant_equal("0.3333333", "0.333333", float_tol=1e-6)
    assert not tolerant_equal("0.334", "0.333", float_tol=1e-6)
    assert not tolerant_equal("0.3333333 x", "0.333333 y", float_tol=1e-6)


def test_exact_is_byte_for_byte():
    assert outputs_match("3\n", "3\n", Checker(mode="exact"))
    assert not outputs_match("3\n", "3", Checker(mode="exact"))


# The cases measured against the real APPS judge (DATASETS.md, "Checked by running the real code").
@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("1 2 \n", "1 2\n"),
        ("1\n\n\n2\n", "1\n2\n"),
        ("1\r\n2\r\n", "1\n2\n"),
        ("1.5\n", "1.5004\n"),
        ("1e-9\n", "0\n"),
        ("2 1\n", "1 2\n"),
        ("2\n1\n", "1\n2\n"),
        ("1\n1\n2\n", "1\n2\n"),
    ],
)
def test_apps_accepts_what_apps_accepts(output, expected):
    assert apps_equal(output, expected)


@pytest.mark.parametrize(
    ("output", "expected"),
    [("YES\n", "yes\n"), ("10\n20\n", "10 20\n"), ("1 2 3\n", "1 2\n"), ("1.2344\n", "1.2346\n")],
)
def test_apps_rejects_what_apps_rejects(output, expected):
    assert not apps_equal(output, expected)
