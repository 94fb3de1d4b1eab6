import math

import pytest

from oorl.eval.passk import estimate_pass_at_k, pass_at_k_mean


@pytest.mark.parametrize(
    ("n", "c", "k"), [(10, 3, 1), (10, 3, 5), (20, 1, 10), (7, 0, 3), (5, 5, 2), (200, 13, 100)]
)
def test_matches_the_binomial_formula(n, c, k):
    expected = 1.0 - math.comb(n - c, k) / math.comb(n, k)
    assert estimate_pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_pass_at_1_is_the_fraction_correct():
    assert estimate_pass_at_k(8, 3, 1) == pytest.approx(3 / 8)


def test_certain_when_fewer_failures_than_k():
    assert estimate_pass_at_k(5, 3, 3) == 1.0  # only 2 failures: any 3 draws hold a pass


def test_mean_over_problems():
    assert pass_at_k_mean([(4, 1), (4, 3), (1, 0)], 1) == pytest.approx((0.25 + 0.75 + 0.0) / 3)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        estimate_pass_at_k(n, c, k)
