import math

import pytest
import torch

from oorl.algos import (
    ADVANTAGE_ESTIMATORS,
    dr_grpo,
    global_whiten,
    grpo,
    reinforce_pp,
    reinforce_pp_baseline,
    returns_to_go,
    rloo,
    token_rewards,
)

MASK_2X3 = torch.tensor([[1, 1, 0], [1, 1, 1]])


def test_token_rewards_by_hand():
    """R = (1, 0), kl = 1 everywhere, kl_coef = 0.1: every completion token pays -0.1 and the last
    completion token (t = 1 in row 0, t = 2 in row 1) also gets R; padding is 0."""
    out = token_rewards(torch.tensor([1.0, 0.0]), MASK_2X3, kl=torch.ones(2, 3), kl_coef=0.1)
    torch.testing.assert_close(out, torch.tensor([[-0.1, 0.9, 0.0], [-0.1, -0.1, -0.1]]))


def test_returns_to_go_by_hand():
    """gamma = 1: row 0 (-0.1, 0.9) -> (0.8, 0.9); row 1 (-0.1, -0.1, -0.1) -> (-0.3, -0.2, -0.1).
    gamma = 0.5: row 0 -> (-0.1 + 0.5 * 0.9, 0.9) = (0.35, 0.9); row 1 -> (-0.175, -0.15, -0.1)."""
    rewards = torch.tensor([[-0.1, 0.9, 0.0], [-0.1, -0.1, -0.1]])
    torch.testing.assert_close(
        returns_to_go(rewards, MASK_2X3), torch.tensor([[0.8, 0.9, 0.0], [-0.3, -0.2, -0.1]])
    )
    torch.testing.assert_close(
        returns_to_go(rewards, MASK_2X3, gamma=0.5), torch.tensor([[0.35, 0.9, 0.0], [-0.175, -0.15, -0.1]])
    )


def test_reinforce_pp_by_hand():
    """R = (1, 0), no KL: returns (1, 1 | 0, 0, 0) over the 5 completion tokens.
    mean = 2/5 = 0.4; population var = (2 * 0.6^2 + 3 * 0.4^2) / 5 = 0.24; std = 0.4899.
    A = 0.6 / 0.4899 = 1.2247 for row 0, -0.4 / 0.4899 = -0.8165 for row 1; padding 0."""
    adv = reinforce_pp(torch.tensor([1.0, 0.0]), MASK_2X3)
    a, b = 0.6 / math.sqrt(0.24), -0.4 / math.sqrt(0.24)
    torch.testing.assert_close(adv, torch.tensor([[a, a, 0.0], [b, b, b]]))


def test_global_whiten_floors_the_variance():
    """Equal values: var = 0 < 1e-8, so A = (x - mean) / 1e-4 = 0, not NaN."""
    torch.testing.assert_close(global_whiten(torch.full((2, 3), 5.0), MASK_2X3), torch.zeros(2, 3))


# Two prompts, G = 2: R = (1, 0 | 1, 1); every sample has 2 completion tokens; no KL.
GROUP_R = torch.tensor([1.0, 0.0, 1.0, 1.0])
GROUP_MASK = torch.ones(4, 2)


def _per_sample(values: list[float]) -> torch.Tensor:
    return torch.tensor(values)[:, None].expand(4, 2)


def test_reinforce_pp_baseline_by_hand():
    """Shaped R = R - mean_G = (0.5, -0.5 | 0, 0); over 8 tokens mean 0, var = 4 * 0.25 / 8 = 0.125,
    std = 0.35355, so A = (1.4142, -1.4142 | 0, 0)."""
    adv = reinforce_pp_baseline(GROUP_R, GROUP_MASK, group_size=2)
    torch.testing.assert_close(adv, _per_sample([math.sqrt(2), -math.sqrt(2), 0.0, 0.0]))


def test_rloo_by_hand_is_whitened_as_openrlhf():
    """OpenRLHF's `rloo`: shape, then whiten over every token (only group_norm and dr_grpo skip it).
    G = 3, R = (1, 0, 0 | 1, 1, 0), completion lengths (1, 2, 1 | 1, 1, 3), no KL.
    Leave-one-out: sample i gets R_i - (sum_G - R_i) / 2:
      group 1: 1 - 0 = 1, 0 - 0.5 = -0.5, -0.5;  group 2: 1 - 0.5 = 0.5, 0.5, 0 - 1 = -1.
    Per token (the return-to-go of a final reward is that reward on every token of the sample):
      1 | -0.5 -0.5 | -0.5 | 0.5 | 0.5 | -1 -1 -1   (9 tokens)
    mean = (1 - 1.5 + 1 - 3) / 9 = -2.5 / 9 = -0.27778
    var = mean of squares - mean^2 = (1 + 3 * 0.25 + 2 * 0.25 + 3) / 9 - 0.07716 = 0.50617
    A = (x + 0.27778) / 0.71146: 1 -> 1.79600, -0.5 -> -0.31235, 0.5 -> 1.09322, -1 -> -1.01513.
    Unwhitened (this estimator before) the first token would be 1.0: a difference of 0.80."""
    R = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    lengths = torch.tensor([1, 2, 1, 1, 1, 3])
    mask = torch.arange(3)[None, :] < lengths[:, None]
    adv = rloo(R, mask, group_size=3)
    mean = -2.5 / 9
    std = math.sqrt((1 + 0.75 + 0.5 + 3) / 9 - mean**2)
    w = lambda x: (x - mean) / std  # noqa: E731
    expected = torch.tensor(
        [
            [w(1.0), 0, 0],
            [w(-0.5), w(-0.5), 0],
            [w(-0.5), 0, 0],
            [w(0.5), 0, 0],
            [w(0.5), 0, 0],
            [w(-1.0), w(-1.0), w(-1.0)],
        ]
    )
    torch.testing.assert_close(adv, expected)
    assert adv[:, 0].tolist() == pytest.approx(
        [1.79600, -0.31235, -0.31235, 1.09322, 1.09322, -1.01513], abs=1e-4
    )


def test_grpo_by_hand():
    """Group (1, 0): mean 0.5, sample std sqrt(0.5) = 0.7071, so +-0.5 / 0.7071 = +-0.7071.
    Group (1, 1): std 0, so 0 / (0 + 1e-9) = 0."""
    s = math.sqrt(0.5)
    torch.testing.assert_close(grpo(GROUP_R, GROUP_MASK, group_size=2), _per_sample([s, -s, 0.0, 0.0]))


def test_dr_grpo_by_hand():
    """R - mean_G = (0.5, -0.5 | 0, 0); no std, no whitening."""
    torch.testing.assert_close(dr_grpo(GROUP_R, GROUP_MASK, group_size=2), _per_sample([0.5, -0.5, 0.0, 0.0]))


def test_group_estimators_accept_b_by_g_rewards():
    for name in ("reinforce_pp_baseline", "rloo", "grpo", "dr_grpo"):
        fn = ADVANTAGE_ESTIMATORS[name]
        torch.testing.assert_close(
            fn(GROUP_R.view(2, 2), GROUP_MASK, group_size=2), fn(GROUP_R, GROUP_MASK, group_size=2)
        )


def test_group_estimators_keep_the_per_token_kl():
    """dr_grpo with kl = 1, kl_coef = 0.1 on sample 0 (shaped R = 0.5, 2 tokens):
    token rewards (-0.1, 0.5 - 0.1) -> returns (0.3, 0.4)."""
    adv = dr_grpo(GROUP_R, GROUP_MASK, group_size=2, kl=torch.ones(4, 2), kl_coef=0.1)
    torch.testing.assert_close(adv[0], torch.tensor([0.3, 0.4]))


def _random_batch(num_samples: int, seq_len: int = 7, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randint(0, 2, (num_samples,), generator=g).float()
    lengths = torch.randint(1, seq_len + 1, (num_samples,), generator=g)
    mask = torch.arange(seq_len)[None, :] < lengths[:, None]
    kl = torch.randn(num_samples, seq_len, generator=g) * 0.3
    return rewards, mask, kl


@pytest.mark.parametrize("name", sorted(ADVANTAGE_ESTIMATORS))
def test_two_ranks_equal_one_rank(name, run_ranks):
    """Rank 0 holds 3 prompts, rank 1 holds 1 (G = 2, so 6 and 2 samples of different lengths): the
    injectable all_reduce sums both halves' (sum, count) and squared deviations, so every estimator
    gives each rank exactly its rows of the one-rank result on the concatenated batch."""
    fn = ADVANTAGE_ESTIMATORS[name]
    rewards, mask, kl = _random_batch(8)
    kwargs = {"group_size": 2, "kl_coef": 0.05}
    one_rank = fn(rewards, mask, kl=kl, **kwargs)
    halves = [slice(0, 6), slice(6, 8)]
    per_rank = run_ranks(
        [lambda ar, s=s: fn(rewards[s], mask[s], kl=kl[s], all_reduce=ar, **kwargs) for s in halves]
    )
    torch.testing.assert_close(torch.cat(per_rank), one_rank)
    assert one_rank[~mask].abs().sum() == 0


def test_two_ranks_differ_from_per_rank_whitening():
    """Sanity check of the test above: whitening each half on its own gives a different answer."""
    rewards, mask, kl = _random_batch(8)
    one_rank = reinforce_pp(rewards, mask, kl=kl)
    local = torch.cat(
        [reinforce_pp(rewards[:6], mask[:6], kl=kl[:6]), reinforce_pp(rewards[6:], mask[6:], kl=kl[6:])]
    )
    assert not torch.allclose(local, one_rank)


def test_invalid_groups_and_gamma_are_rejected():
    with pytest.raises(ValueError, match="groups of 3"):
        dr_grpo(GROUP_R, GROUP_MASK, group_size=3)
    with pytest.raises(ValueError, match=">= 2"):
        rloo(GROUP_R, GROUP_MASK, group_size=1)
    with pytest.raises(ValueError, match="gamma"):
        grpo(GROUP_R, GROUP_MASK, group_size=2, gamma=0.9)
