import itertools
import math

import pytest
import torch

from oorl.algos import dpo_loss, gepo_coefficients, gepo_loss, ipo_loss


def softplus(x: float) -> float:
    """-log sigmoid(-x) = log(1 + e^x)."""
    return math.log1p(math.exp(x))


# One pair: chosen log-ratio -1 - (-2) = 1, rejected log-ratio -3 - (-2) = -1, so delta = 2.
PAIR = [torch.tensor([v], dtype=torch.float64) for v in (-1.0, -3.0, -2.0, -2.0)]


def test_dpo_by_hand():
    """beta = 0.5: beta * delta = 1; L = -log sigmoid(1) = log(1 + e^-1) = 0.313262.
    Label smoothing 0.1: 0.9 * 0.313262 + 0.1 * log(1 + e^1) = 0.281936 + 0.131326 = 0.413262.
    Implicit rewards 0.5 * 1 = 0.5 and 0.5 * -1 = -0.5; margin 1; accuracy 1."""
    loss, metrics = dpo_loss(*PAIR, beta=0.5)
    assert loss.item() == pytest.approx(softplus(-1))
    assert metrics["reward_chosen"].item() == pytest.approx(0.5)
    assert metrics["reward_rejected"].item() == pytest.approx(-0.5)
    assert metrics["margin"].item() == pytest.approx(1.0)
    assert metrics["accuracy"].item() == 1.0
    smoothed, _ = dpo_loss(*PAIR, beta=0.5, label_smoothing=0.1)
    assert smoothed.item() == pytest.approx(0.9 * softplus(-1) + 0.1 * softplus(1))


def test_ipo_by_hand():
    """beta = 0.5: target 1 / (2 * 0.5) = 1; L = (delta - 1)^2 = (2 - 1)^2 = 1."""
    loss, _ = ipo_loss(*PAIR, beta=0.5)
    assert loss.item() == pytest.approx(1.0)


def _random_logps(n: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [(-5 * torch.rand(n, generator=g, dtype=torch.float64)).requires_grad_() for _ in range(4)]


def test_dpo_and_ipo_gradcheck():
    inputs = tuple(_random_logps(3, seed=0))
    assert torch.autograd.gradcheck(lambda *x: dpo_loss(*x, beta=0.3, label_smoothing=0.2)[0], inputs)
    assert torch.autograd.gradcheck(lambda *x: ipo_loss(*x, beta=0.3)[0], inputs)


# One GEPO group: winners with log-ratios r = (1, 3), one loser with r = 0 (reference log-probs 0).
GROUP = (
    torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64),
    torch.zeros(3, dtype=torch.float64),
    torch.tensor([True, True, False]),
    torch.tensor([7, 7, 7]),
)


def test_gepo_by_hand():
    """beta = 0.5: mean_W r = 2, mean_L r = 0, D = 0.5 * 2 = 1, -log sigmoid(1) = 0.313262.
    beta in the variance: Var(0.5 r) of (0.5, 1.5) = 0.25 (population) or 0.5 (sample).
    Not in it: Var(r) of (1, 3) = 1 (population). lam = 1."""
    pref = softplus(-1)
    cases = [
        ({}, pref + 0.25),
        ({"variance": "sample"}, pref + 0.5),
        ({"beta_in_variance": False}, pref + 1.0),
        ({"lam": 0.0}, pref),
    ]
    for options, expected in cases:
        loss, _ = gepo_loss(*GROUP, beta=0.5, **options)
        assert loss.item() == pytest.approx(expected), options


def test_gepo_metrics_and_mean_over_groups_by_hand():
    """Group 7 as above (D = 1, Var = 0.25, winners ahead). Group 2: winner r = -1, losers r = (1, 3):
    D = 0.5 * (-1 - 2) = -1.5, -log sigmoid(-1.5) = log(1 + e^1.5) = 1.701413, Var = 0, winner behind.
    L = (0.313262 + 0.25 + 1.701413) / 2 = 1.132338; margin (1 - 1.5) / 2 = -0.25; winner_var 0.125;
    accuracy 1 / 2."""
    r = torch.cat([GROUP[0], torch.tensor([-1.0, 1.0, 3.0], dtype=torch.float64)])
    winners = torch.cat([GROUP[2], torch.tensor([True, False, False])])
    groups = torch.tensor([7, 7, 7, 2, 2, 2])
    loss, metrics = gepo_loss(r, torch.zeros(6, dtype=torch.float64), winners, groups, beta=0.5)
    assert loss.item() == pytest.approx((softplus(-1) + 0.25 + softplus(1.5)) / 2)
    assert metrics["margin"].item() == pytest.approx(-0.25)
    assert metrics["winner_var"].item() == pytest.approx(0.125)
    assert metrics["accuracy"].item() == 0.5
    assert metrics["pref_loss"].item() + metrics["var_loss"].item() == pytest.approx(loss.item())
    assert not any(m.requires_grad for m in metrics.values())


def test_gepo_coefficients_by_hand():
    """The group above, beta = 0.5, lam = 1, c = 0.5, s = sigmoid(-1) = 0.268941, K = 1:
    winner r = 1: -0.5 * s / 2 + 2 * 0.25 * (1 - 2) / 2 = -0.067235 - 0.25 = -0.317235;
    winner r = 3: -0.067235 + 0.25 = 0.182765; loser: 0.5 * s / 1 = 0.134471."""
    s = 1 / (1 + math.e)
    expected = torch.tensor([-0.5 * s / 2 - 0.25, -0.5 * s / 2 + 0.25, 0.5 * s], dtype=torch.float64)
    torch.testing.assert_close(gepo_coefficients(*GROUP, beta=0.5), expected)


def _random_groups(seed: int):
    """Three groups of sizes 5 (3W, 2L), 2 (1W, 1L) and 4 (1W, 3L), ids 10/4/8, interleaved."""
    g = torch.Generator().manual_seed(seed)
    group_index = torch.tensor([10, 4, 10, 8, 10, 8, 4, 10, 8, 8, 10])
    winner_mask = torch.tensor([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=torch.bool)
    policy = (-20 * torch.rand(11, generator=g, dtype=torch.float64)).requires_grad_()
    ref = (-20 * torch.rand(11, generator=g, dtype=torch.float64)).requires_grad_()
    return policy, ref, winner_mask, group_index


OPTIONS = [
    {"variance": v, "beta_in_variance": b, "lam": lam}
    for v, b, lam in itertools.product(["population", "sample"], [True, False], [0.0, 1.0, 2.5])
]


@pytest.mark.parametrize("options", OPTIONS)
def test_gepo_gradcheck(options):
    policy, ref, winners, groups = _random_groups(seed=1)
    assert torch.autograd.gradcheck(
        lambda p, r: gepo_loss(p, r, winners, groups, beta=0.2, **options)[0], (policy, ref)
    )


@pytest.mark.parametrize("options", OPTIONS)
def test_gepo_coefficients_equal_autograd(options):
    """Closed-form g_i = dL/dr_i against autograd, every option, uneven groups incl. one winner."""
    policy, ref, winners, groups = _random_groups(seed=2)
    loss, _ = gepo_loss(policy, ref, winners, groups, beta=0.2, **options)
    (autograd,) = torch.autograd.grad(loss, policy)
    coefs = gepo_coefficients(policy, ref, winners, groups, beta=0.2, **options)
    torch.testing.assert_close(coefs, autograd, rtol=1e-12, atol=1e-15)


def test_gepo_with_one_winner_one_loser_and_no_variance_is_dpo():
    """n = m = 1, lam = 0: D = beta * (r_w - r_l), exactly DPO's logit, for each of 4 groups."""
    pc, pr, rc, rr = _random_logps(4, seed=3)
    policy = torch.stack([pc, pr], 1).reshape(-1)  # (w0, l0, w1, l1, ...)
    ref = torch.stack([rc, rr], 1).reshape(-1)
    winners = torch.tensor([True, False] * 4)
    groups = torch.arange(4).repeat_interleave(2)
    gepo, gepo_metrics = gepo_loss(policy, ref, winners, groups, beta=0.3, lam=0.0)
    dpo, dpo_metrics = dpo_loss(pc, pr, rc, rr, beta=0.3)
    torch.testing.assert_close(gepo, dpo)
    torch.testing.assert_close(gepo_metrics["margin"], dpo_metrics["margin"])
    torch.testing.assert_close(gepo_metrics["accuracy"], dpo_metrics["accuracy"])


def test_equal_winner_log_ratios_give_no_variance_gradient():
    """Winners with log-ratios (2, 2, 2): Var_W = 0, and the gradient with lam = 5 equals that with
    lam = 0 (only the preference term moves them)."""
    policy = torch.tensor([2.0, 2.0, 2.0, 0.5, -1.0], dtype=torch.float64, requires_grad=True)
    args = (
        torch.zeros(5, dtype=torch.float64),
        torch.tensor([True, True, True, False, False]),
        torch.zeros(5, dtype=torch.long),
    )
    loss, metrics = gepo_loss(policy, *args, lam=5.0)
    assert metrics["winner_var"].item() == 0.0
    (with_var,) = torch.autograd.grad(loss, policy)
    (without_var,) = torch.autograd.grad(gepo_loss(policy, *args, lam=0.0)[0], policy)
    torch.testing.assert_close(with_var, without_var, rtol=0, atol=0)


def test_group_ids_and_order_do_not_matter():
    policy, ref, winners, groups = _random_groups(seed=4)
    perm = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    relabelled = groups * 3 + 100
    a, _ = gepo_loss(policy, ref, winners, groups)
    b, _ = gepo_loss(policy[perm], ref[perm], winners[perm], relabelled[perm])
    torch.testing.assert_close(a, b)


def test_gepo_validates_its_inputs():
    r, ref = torch.zeros(3), torch.zeros(3)
    with pytest.raises(ValueError, match=r"groups \[5\]"):
        gepo_loss(r, ref, torch.tensor([True, False, True]), torch.tensor([1, 1, 5]))  # group 5: no loser
    with pytest.raises(ValueError, match=r"groups \[1\]"):
        four = torch.zeros(4)
        gepo_loss(
            four, four, torch.tensor([False, False, True, False]), torch.tensor([1, 1, 5, 5])
        )  # 1: no winner
    with pytest.raises(ValueError, match="bool"):
        gepo_loss(r, ref, torch.tensor([1, 0, 1]), torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError, match="integer"):
        gepo_loss(r, ref, torch.tensor([True, False, True]), torch.tensor([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="1-D"):
        gepo_loss(r, torch.zeros(4), torch.tensor([True, False, True]), torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError, match="no sequences"):
        gepo_loss(
            torch.zeros(0), torch.zeros(0), torch.zeros(0, dtype=torch.bool), torch.zeros(0, dtype=torch.long)
        )
    with pytest.raises(ValueError, match="variance"):
        gepo_loss(r, ref, torch.tensor([True, False, True]), torch.tensor([1, 1, 1]), variance="unbiased")


def test_dpo_pairs_are_every_winner_loser_pair_of_a_group():
    """Groups 7 (W W L) and 3 (W L L), interleaved: 2 x 1 + 1 x 2 = 4 pairs, none across groups."""
    from oorl.algos import dpo_pairs

    winner = torch.tensor([True, True, True, False, False, False])
    group = torch.tensor([7, 7, 3, 7, 3, 3])
    w, l_ = dpo_pairs(winner, group)
    assert sorted(zip(w.tolist(), l_.tolist(), strict=True)) == [(0, 3), (1, 3), (2, 4), (2, 5)]


def test_a_tie_is_half_right_not_wrong():
    """At a run's first step the policy is its reference: every log-ratio is 0, every margin 0, and
    the accuracies say chance (0.5), not 0."""
    zeros = torch.zeros(4)
    _, gepo_m = gepo_loss(zeros, zeros, torch.tensor([True, True, False, False]), torch.tensor([0, 0, 0, 0]))
    _, dpo_m = dpo_loss(zeros[:2], zeros[2:], zeros[:2], zeros[2:])
    assert gepo_m["margin"].item() == 0.0 and gepo_m["accuracy"].item() == 0.5
    assert dpo_m["accuracy"].item() == 0.5
