"""Critic-free advantage estimators with OpenRLHF semantics (REINFORCE++, Hu 2025; OpenRLHF).

Every estimator runs the same pipeline and differs only in how the outcome reward R is shaped first:

1. shape R per prompt group (identity, minus the group mean, leave-one-out, group z-score);
2. per-token reward ``r_t = -kl_coef * KL_t + [t == last completion token] * R`` (the KL comes from
   rollout-time log-probs, so it is a detached reward, not a gradient path);
3. return-to-go ``G_t = sum_{k >= t} gamma^(k - t) r_k``;
4. every estimator but GRPO (OpenRLHF's ``group_norm``) and Dr. GRPO: global whitening over every
   completion token of the rollout batch on every data-parallel rank,
   ``A <- (A - mean) / sqrt(max(var, 1e-8))``, mean and var token-weighted, population variance.
   OpenRLHF whitens all experiences unless the estimator is ``group_norm`` or ``dr_grpo``
   (``openrlhf/trainer/ppo_utils/experience_maker.py``), so REINFORCE++, REINFORCE++-baseline and
   RLOO are whitened; GRPO already normalises per group, and Dr. GRPO exists to avoid the division.

Shapes: ``N = B * G`` samples, ``T`` completion positions. ``rewards`` is (N,) with the G samples of a
prompt *contiguous* (sample i belongs to prompt i // G); a (B, G) tensor is accepted and flattened
row-major, which is the same layout. Groups never straddle data-parallel ranks. Masked positions of
the returned (N, T) advantages are 0.

Data-parallel correctness: global statistics are computed from sums and counts that are passed
through ``all_reduce``, a function that returns the elementwise sum of a small tensor over all ranks.
The default is the identity (one process). With torch.distributed::

    def all_reduce(x):
        torch.distributed.all_reduce(x)  # in place, SUM
        return x
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

AllReduce = Callable[[Tensor], Tensor]


def single_process(x: Tensor) -> Tensor:
    """The all-reduce of a world of one rank: the identity."""
    return x


class AdvantageEstimator(Protocol):
    """The signature shared by every estimator in :data:`ADVANTAGE_ESTIMATORS`."""

    def __call__(
        self,
        rewards: Tensor,
        mask: Tensor,
        *,
        group_size: int,
        kl: Tensor | None = None,
        kl_coef: float = 0.01,
        gamma: float = 1.0,
        all_reduce: AllReduce = single_process,
    ) -> Tensor: ...


# ---------------------------------------------------------------------------------------------------
# Pipeline steps
# ---------------------------------------------------------------------------------------------------


def token_rewards(
    rewards: Tensor, mask: Tensor, *, kl: Tensor | None = None, kl_coef: float = 0.01
) -> Tensor:
    """Per-token reward ``r_t = -kl_coef * KL_t + [t == last completion token] * R`` (OpenRLHF).

    Args:
        rewards: (N,) outcome reward per sample (already shaped).
        mask: (N, T) completion tokens.
        kl: (N, T) per-token KL estimate (e.g. k1 of rollout-time log-probs), or None for no penalty.

    Returns:
        (N, T), 0 at masked positions.
    """
    mask = mask.bool()
    dtype = torch.promote_types(rewards.dtype, torch.float32)
    # The last True of each row: cumsum reaches its maximum there first.
    last = mask.long().cumsum(-1).argmax(-1)  # (N,)
    out = torch.zeros(mask.shape, dtype=dtype, device=mask.device)  # (N, T)
    out[torch.arange(mask.shape[0], device=mask.device), last] = rewards.to(dtype)
    if kl is not None:
        out = out - kl_coef * kl.detach().to(dtype)
    return out * mask


def returns_to_go(token_rewards: Tensor, mask: Tensor, *, gamma: float = 1.0) -> Tensor:
    """Discounted return ``G_t = r_t + gamma * G_{t+1}`` (OpenRLHF ``get_cumulative_returns``).

    Args:
        token_rewards: (N, T), 0 at masked positions.
        mask: (N, T).

    Returns:
        (N, T), 0 at masked positions.
    """
    mask = mask.to(token_rewards.dtype)
    if gamma == 1.0:  # a reversed cumulative sum; no Python loop
        returns = token_rewards.flip(-1).cumsum(-1).flip(-1)
    else:
        returns = torch.zeros_like(token_rewards)
        running = torch.zeros_like(token_rewards[:, 0])  # (N,)
        for t in reversed(range(token_rewards.shape[1])):
            running = token_rewards[:, t] + gamma * running
            returns[:, t] = running
    return returns * mask


def global_whiten(
    values: Tensor, mask: Tensor, *, all_reduce: AllReduce = single_process, var_floor: float = 1e-8
) -> Tensor:
    """``(A - mean) / sqrt(max(var, var_floor))`` over every masked token on every rank.

    ``mean = sum(A m) / sum(m)``, ``var = sum((A - mean)^2 m) / sum(m)`` (token-weighted, population
    variance, as OpenRLHF), where each sum is also summed over ranks by ``all_reduce``. Two passes
    (mean first) for numerical stability; each reduces a tensor of at most two elements.

    Args:
        values: (N, T); mask: (N, T).

    Returns:
        (N, T), 0 at masked positions.
    """
    mask = mask.to(values.dtype)
    sums = all_reduce(torch.stack([(values * mask).sum(), mask.sum()]))  # (2,): sum A, count
    mean = sums[0] / sums[1]
    var = all_reduce(((values - mean).pow(2) * mask).sum()) / sums[1]
    return (values - mean) * var.clamp(min=var_floor).rsqrt() * mask


def _groups(rewards: Tensor, group_size: int, *, min_size: int = 1) -> Tensor:
    """(N,) or (B, G) rewards as a (B, G) float view; checks that N is a multiple of G."""
    flat = rewards.reshape(-1).to(torch.promote_types(rewards.dtype, torch.float32))
    if group_size < min_size:
        raise ValueError(f"group_size must be >= {min_size} for this estimator, got {group_size}")
    if flat.numel() % group_size:
        raise ValueError(f"{flat.numel()} rewards do not split into groups of {group_size}")
    return flat.view(-1, group_size)


def _check_gamma(gamma: float, name: str) -> None:
    # OpenRLHF forces gamma = 1 for group baselines: a baseline of discounted returns that start at
    # different depths is not a baseline. We refuse rather than silently override.
    if gamma != 1.0:
        raise ValueError(f"{name} needs gamma == 1.0 (as OpenRLHF), got {gamma}")


# ---------------------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------------------


def reinforce_pp(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_size: int = 1,
    kl: Tensor | None = None,
    kl_coef: float = 0.01,
    gamma: float = 1.0,
    all_reduce: AllReduce = single_process,
) -> Tensor:
    """REINFORCE++ (Hu 2025, as OpenRLHF): ``A = whiten(return-to-go(-kl_coef KL + R at the end))``.

    ``group_size`` is unused (R is not shaped); it is accepted so every estimator shares one signature.

    Args:
        rewards: (N,) outcome rewards. mask: (N, T) completion tokens. kl: (N, T) or None.

    Returns:
        (N, T) advantages, globally whitened, 0 at masked positions.
    """
    del group_size
    returns = returns_to_go(
        token_rewards(rewards.reshape(-1), mask, kl=kl, kl_coef=kl_coef), mask, gamma=gamma
    )
    return global_whiten(returns, mask, all_reduce=all_reduce)


def reinforce_pp_baseline(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_size: int,
    kl: Tensor | None = None,
    kl_coef: float = 0.01,
    gamma: float = 1.0,
    all_reduce: AllReduce = single_process,
) -> Tensor:
    """REINFORCE++-baseline (OpenRLHF): R <- R - mean_G R, then the REINFORCE++ pipeline with whitening.

    Note: verl's variant differs (it subtracts the group mean of the KL-penalised *sum* and gives every
    token the same value); we follow OpenRLHF, where the KL stays per token.

    Returns:
        (N, T) advantages, globally whitened, 0 at masked positions.
    """
    _check_gamma(gamma, "reinforce_pp_baseline")
    groups = _groups(rewards, group_size)  # (B, G)
    shaped = (groups - groups.mean(-1, keepdim=True)).reshape(-1)  # (N,)
    returns = returns_to_go(token_rewards(shaped, mask, kl=kl, kl_coef=kl_coef), mask)
    return global_whiten(returns, mask, all_reduce=all_reduce)


def rloo(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_size: int,
    kl: Tensor | None = None,
    kl_coef: float = 0.01,
    gamma: float = 1.0,
    all_reduce: AllReduce = single_process,
) -> Tensor:
    """RLOO (Ahmadian et al. 2024, as OpenRLHF): ``R_i <- R_i - (sum_G R - R_i) / (G - 1)``, then the
    REINFORCE++ pipeline with global whitening (OpenRLHF whitens RLOO's advantages too). Needs G >= 2.

    Returns:
        (N, T) advantages, globally whitened, 0 at masked positions.
    """
    _check_gamma(gamma, "rloo")
    groups = _groups(rewards, group_size, min_size=2)  # (B, G)
    baseline = (groups.sum(-1, keepdim=True) - groups) / (group_size - 1)
    shaped = (groups - baseline).reshape(-1)  # (N,)
    returns = returns_to_go(token_rewards(shaped, mask, kl=kl, kl_coef=kl_coef), mask)
    return global_whiten(returns, mask, all_reduce=all_reduce)


def grpo(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_size: int,
    kl: Tensor | None = None,
    kl_coef: float = 0.01,
    gamma: float = 1.0,
    all_reduce: AllReduce = single_process,
    std_eps: float = 1e-9,
) -> Tensor:
    """GRPO (Shao et al. 2024; OpenRLHF ``group_norm``): ``R <- (R - mean_G) / (std_G + std_eps)``.

    ``std_G`` is the sample (Bessel-corrected) standard deviation, as OpenRLHF and TRL use
    (``torch.std``); needs G >= 2. No global whitening; ``all_reduce`` is unused. With ``kl=None`` every
    completion token of a sample gets the same advantage.

    Returns:
        (N, T) advantages, 0 at masked positions.
    """
    del all_reduce
    _check_gamma(gamma, "grpo")
    groups = _groups(rewards, group_size, min_size=2)  # (B, G)
    shaped = ((groups - groups.mean(-1, keepdim=True)) / (groups.std(-1, keepdim=True) + std_eps)).reshape(-1)
    return returns_to_go(token_rewards(shaped, mask, kl=kl, kl_coef=kl_coef), mask)


def dr_grpo(
    rewards: Tensor,
    mask: Tensor,
    *,
    group_size: int,
    kl: Tensor | None = None,
    kl_coef: float = 0.01,
    gamma: float = 1.0,
    all_reduce: AllReduce = single_process,
) -> Tensor:
    """Dr. GRPO (Liu et al. 2025, as OpenRLHF): ``R <- R - mean_G R``, no std division, no whitening.

    ``all_reduce`` is unused. (Dr. GRPO's other change, a constant loss normaliser instead of per-
    sequence length, is the policy loss's ``seq-mean-token-sum`` / ``num_tokens`` choice.)

    Returns:
        (N, T) advantages, 0 at masked positions.
    """
    del all_reduce
    _check_gamma(gamma, "dr_grpo")
    groups = _groups(rewards, group_size)  # (B, G)
    shaped = (groups - groups.mean(-1, keepdim=True)).reshape(-1)  # (N,)
    return returns_to_go(token_rewards(shaped, mask, kl=kl, kl_coef=kl_coef), mask)


ADVANTAGE_ESTIMATORS: dict[str, AdvantageEstimator] = {
    "reinforce_pp": reinforce_pp,
    "reinforce_pp_baseline": reinforce_pp_baseline,
    "rloo": rloo,
    "grpo": grpo,
    "dr_grpo": dr_grpo,
}
"""Estimator by config name: ``ADVANTAGE_ESTIMATORS[cfg.estimator](rewards, mask, group_size=G, ...)``."""

ESTIMATOR_NAMES: dict[str, str] = {
    "reinforce_pp": "REINFORCE++",
    "reinforce_pp_baseline": "REINFORCE++-baseline",
    "rloo": "RLOO",
    "grpo": "GRPO",
    "dr_grpo": "Dr. GRPO",
}
"""How reports name each estimator of :data:`ADVANTAGE_ESTIMATORS`."""
