"""Comparing a program's stdout with the expected output (stdio tests)."""

from __future__ import annotations

import math

from oorl.sandbox.types import Checker


def _float(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _lines(text: str) -> list[str]:
    """CRLF/CR -> LF, trailing whitespace of each line and trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _tokens_match(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
    a, b = _float(got), _float(want)
    return a is not None and b is not None and math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def tolerant_equal(output: str, expected: str, float_tol: float | None = None) -> bool:
    """Equal up to line endings, trailing whitespace and trailing blank lines; with `float_tol`,
    whitespace-separated tokens that both parse as floats may differ by that absolute or relative amount."""
    got, want = _lines(output), _lines(expected)
    if got == want:
        return True
    if float_tol is None or len(got) != len(want):
        return False
    for line_got, line_want in zip(got, want, strict=True):
        tg, tw = line_got.split(), line_want.split()
        if len(tg) != len(tw) or not all(_tokens_match(a, b, float_tol) for a, b in zip(tg, tw, strict=True)):
            return False
    return True


def apps_equal(output: str, expected: str) -> bool:
    """APPS' lenient stdin judge (hendrycks/apps eval/testing_util.py @362aedc), rules 1-5 in order:
    1. stripped joined lines equal (also with each line stripped);
    2. expected's non-empty stripped lines equal the output lines (with or without empty ones);
    3. every line of both sides is one float, same count, allclose(rtol=1e-5, atol=1e-8);
    4. the sets of per-line token sets are equal;
    5. as 4 with every token rounded to 3 decimals.
    """
    out_lines = output.splitlines()
    if "\n".join(out_lines).strip() == expected.strip():
        return True
    if "\n".join(line.strip() for line in out_lines).strip() == expected.strip():
        return True
    want = [line.strip() for line in expected.split("\n") if line.strip()]
    if out_lines == want or [line for line in out_lines if line] == want:
        return True
    out_stripped = [line.strip() for line in out_lines]
    if out_stripped == want or [line for line in out_stripped if line] == want:
        return True
    got_f = [_float(line) for line in out_stripped if line]
    want_f = [_float(line) for line in want]
    floats = got_f and len(got_f) == len(want_f) and None not in got_f and None not in want_f
    if floats and all(abs(a - b) <= 1e-8 + 1e-5 * abs(b) for a, b in zip(got_f, want_f, strict=True)):
        return True

    def token_sets(lines: list[str], rounded: bool) -> set[frozenset] | None:
        sets = set()
        for line in lines:
            if not line.strip():
                continue
            tokens = line.split()
            if rounded:
                values = [_float(t) for t in tokens]
                if None in values:
                    return None
                sets.add(frozenset(round(v, 3) for v in values))
            else:
                sets.add(frozenset(tokens))
        return sets

    if token_sets(out_lines, False) == token_sets(want, False):
        return True
    a, b = token_sets(out_lines, True), token_sets(want, True)
    return a is not None and a == b


def outputs_match(output: str, expected: str, checker: Checker) -> bool:
    if checker.mode == "exact":
        return output == expected
    if checker.mode == "apps":
        return apps_equal(output, expected)
    return tolerant_equal(output, expected, checker.float_tol)
