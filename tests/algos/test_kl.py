import math

import pytest
import torch

from oorl.algos import KL_ESTIMATORS, kl_k1, kl_k2, kl_k3

LN2 = math.log(2)


def test_estimators_by_hand():
    """logp = 0, ref_logp = ln 2, so d = -ln 2 = -0.6931:
    k1 = -0.6931; k2 = 0.4805 / 2 = 0.2402; k3 = e^{ln 2} - 1 - ln 2 = 2 - 1 - 0.6931 = 0.3069."""
    logp, ref = torch.tensor([0.0]), torch.tensor([LN2])
    torch.testing.assert_close(kl_k1(logp, ref), torch.tensor([-LN2]))
    torch.testing.assert_close(kl_k2(logp, ref), torch.tensor([LN2**2 / 2]))
    torch.testing.assert_close(kl_k3(logp, ref), torch.tensor([1 - LN2]))
    assert {"k1": kl_k1, "k2": kl_k2, "k3": kl_k3} == KL_ESTIMATORS


def test_all_estimators_vanish_at_equal_policies():
    x = torch.randn(4, 5)
    for estimator in KL_ESTIMATORS.values():
        torch.testing.assert_close(estimator(x, x), torch.zeros(4, 5))


def test_k3_clamp_keeps_values_and_gradients_finite():
    """d = -100: e^100 - 101 is far above 10, so k3 = 10 with zero (not NaN) gradient; d = -2:
    e^2 - 1 - 2 = 4.389, unclamped, gradient dk3/dlogp = 1 - e^{-d} = 1 - e^2 = -6.389."""
    logp = torch.tensor([-100.0, -2.0], requires_grad=True)
    k3 = kl_k3(logp, torch.zeros(2))
    torch.testing.assert_close(k3, torch.tensor([10.0, math.exp(2) - 3]))
    k3.sum().backward()
    torch.testing.assert_close(logp.grad, torch.tensor([0.0, 1 - math.exp(2)]))


@pytest.mark.parametrize("d", [-12.0, -3.0, -1.0, 0.5, 5.0, 10.5, 12.0])
def test_k3_preclamp_does_not_change_the_value(d):
    """The clamp of d to [-11, 11] before the exp never changes min(k3, 10)."""
    exact = min(math.exp(-d) - 1 + d, 10.0)
    assert kl_k3(
        torch.tensor([d], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    ).item() == pytest.approx(exact)
    unclamped = kl_k3(
        torch.tensor([d], dtype=torch.float64), torch.zeros(1, dtype=torch.float64), clamp=None
    ).item()
    assert unclamped == pytest.approx(math.exp(-d) - 1 + d)
