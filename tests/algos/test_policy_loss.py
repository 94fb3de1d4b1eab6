import math

import pytest
import torch

from oorl.algos import aggregate_loss, ppo_policy_loss, token_logprobs

LN15, LN05 = math.log(1.5), math.log(0.5)


def test_ppo_policy_loss_by_hand():
    """Four tokens, eps = 0.2, rho = (1.5, 1.5, 0.5, 0.5), A = (1, -1, 1, -1):
    -min(1.5, 1.2) = -1.2 (clipped); -min(-1.5, -1.2) = 1.5; -min(0.5, 0.8) = -0.5;
    -min(-0.5, -0.8) = 0.8 (clipped). token-mean = (-1.2 + 1.5 - 0.5 + 0.8) / 4 = 0.15.
    clip_frac = 2 / 4; ratio_mean = 1.0; approx_kl = mean(rho - 1 - ln rho)
    = (2 * (0.5 - 0.405465) + 2 * (-0.5 + 0.693147)) / 4 = 0.143841."""
    logp = torch.tensor([[LN15, LN15, LN05, LN05]], requires_grad=True)
    old = torch.zeros(1, 4)
    adv = torch.tensor([[1.0, -1.0, 1.0, -1.0]])
    loss, metrics = ppo_policy_loss(logp, old, adv, torch.ones(1, 4))
    torch.testing.assert_close(loss, torch.tensor(0.15))
    torch.testing.assert_close(metrics["clip_frac"], torch.tensor(0.5))
    torch.testing.assert_close(metrics["ratio_mean"], torch.tensor(1.0))
    torch.testing.assert_close(metrics["approx_kl"], torch.tensor((0.5 - LN15 - 0.5 - LN05) / 2))
    assert not any(m.requires_grad for m in metrics.values())
    # Clipped tokens have no gradient; the others have d(-rho A)/d logp = -rho A / 4.
    loss.backward()
    torch.testing.assert_close(logp.grad, torch.tensor([[0.0, 1.5 / 4, -0.5 / 4, 0.0]]))


def test_clip_higher_is_asymmetric():
    """eps_low = 0.2, eps_high = 0.28, A = 1: rho = 1.25 is inside [0.8, 1.28] -> -1.25;
    rho = 1.5 is clipped to 1.28 -> -1.28. Mean = -1.265."""
    logp = torch.log(torch.tensor([[1.25, 1.5]]))
    loss, _ = ppo_policy_loss(logp, torch.zeros(1, 2), torch.ones(1, 2), torch.ones(1, 2), eps_high=0.28)
    torch.testing.assert_close(loss, torch.tensor(-1.265))


def test_aggregations_by_hand():
    """token loss (1, 2, 3 | 4, -, -): token-mean = 10 / 4 = 2.5;
    seq-mean-token-mean = (6/3 + 4/1) / 2 = 3; seq-mean-token-sum = (6 + 4) / 2 = 5;
    with num_tokens = 8: 10 / 8 = 1.25; with num_seqs = 4: 10 / 4 = 2.5."""
    token_loss = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    expected = {"token-mean": 2.5, "seq-mean-token-mean": 3.0, "seq-mean-token-sum": 5.0}
    for aggregation, value in expected.items():
        assert aggregate_loss(token_loss, mask, aggregation=aggregation).item() == pytest.approx(value)
    assert aggregate_loss(token_loss, mask, num_tokens=8).item() == pytest.approx(1.25)
    assert aggregate_loss(
        token_loss, mask, aggregation="seq-mean-token-sum", num_seqs=4
    ).item() == pytest.approx(2.5)
    with pytest.raises(ValueError, match="num_seqs"):
        aggregate_loss(token_loss, mask, aggregation="seq-mean-token-sum", num_tokens=8)
    with pytest.raises(ValueError, match="num_tokens"):
        aggregate_loss(token_loss, mask, num_seqs=2)


@pytest.mark.parametrize("aggregation", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"])
def test_gradient_accumulation_1x8_equals_8x1(aggregation):
    """A tiny linear policy over 8 sequences of different lengths: one micro-batch of 8 and eight
    micro-batches of 1, each normalised by the step's global token / sequence count and summed, give
    the same gradient."""
    torch.manual_seed(0)
    policy = torch.nn.Linear(6, 13, dtype=torch.float64)
    features = torch.randn(8, 5, 6, dtype=torch.float64)  # (B, T, hidden)
    labels = torch.randint(0, 13, (8, 5))
    mask = torch.arange(5)[None, :] < torch.randint(1, 6, (8,))[:, None]
    with torch.no_grad():
        old_logp = token_logprobs(policy(features), labels, mask) + 0.1 * torch.randn(
            8, 5, dtype=torch.float64
        )
    advantages = torch.randn(8, 5, dtype=torch.float64)
    norm = {"num_tokens": mask.sum()} if aggregation == "token-mean" else {"num_seqs": 8}

    def step(micro_batches: list[slice]) -> list[torch.Tensor]:
        policy.zero_grad()
        for mb in micro_batches:
            logp = token_logprobs(policy(features[mb]), labels[mb], mask[mb])
            loss, _ = ppo_policy_loss(
                logp, old_logp[mb], advantages[mb], mask[mb], aggregation=aggregation, **norm
            )
            loss.backward()
        return [p.grad.clone() for p in policy.parameters()]

    one_by_eight = step([slice(0, 8)])
    eight_by_one = step([slice(i, i + 1) for i in range(8)])
    for a, b in zip(one_by_eight, eight_by_one, strict=True):
        torch.testing.assert_close(a, b)
    # Without the global normaliser the micro-batch means do not add up (sanity check of the test).
    policy.zero_grad()
    for i in range(8):
        logp = token_logprobs(policy(features[i : i + 1]), labels[i : i + 1], mask[i : i + 1])
        ppo_policy_loss(
            logp, old_logp[i : i + 1], advantages[i : i + 1], mask[i : i + 1], aggregation=aggregation
        )[0].backward()
    assert not torch.allclose(policy.weight.grad, one_by_eight[0])
