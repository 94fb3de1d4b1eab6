"""Per-token KL estimators k1, k2, k3 (Schulman 2020, "Approximating KL divergence"; OpenRLHF).

All take the per-token log-probs of the sampled tokens under the policy and the reference, and
estimate KL(pi || pi_ref) from ``d = logp - ref_logp`` at that token:

    k1 = d                       unbiased, high variance, can be negative
    k2 = d^2 / 2                 biased, low variance, >= 0
    k3 = exp(-d) - 1 + d         unbiased, low variance, >= 0

OpenRLHF recommends k1 when the KL is folded into the reward (REINFORCE++), k2/k3 when it is a
separate loss term. Inputs of any shape (typically (B, T)); outputs have the same shape, and masking
is left to the caller.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

KLEstimator = Callable[[Tensor, Tensor], Tensor]


def kl_k1(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """k1 = logp - ref_logp."""
    return logp - ref_logp


def kl_k2(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """k2 = (logp - ref_logp)^2 / 2."""
    return (logp - ref_logp).pow(2) / 2


def kl_k3(logp: Tensor, ref_logp: Tensor, *, clamp: float | None = 10.0) -> Tensor:
    """k3 = exp(-d) - 1 + d with d = logp - ref_logp, clamped to [-clamp, clamp] (OpenRLHF's guard).

    Since k3(d) >= |d| - 1 (because e^x >= 2x), every |d| > clamp + 1 is clamped anyway; we clamp d to
    that range *before* the exp so that a huge |d| cannot overflow to inf and turn the (zero) gradient
    of the clamp into NaN. The value is unchanged by this.
    """
    d = logp - ref_logp
    if clamp is None:
        return torch.exp(-d) - 1 + d
    d = d.clamp(-(clamp + 1), clamp + 1)
    return (torch.exp(-d) - 1 + d).clamp(-clamp, clamp)


KL_ESTIMATORS: dict[str, KLEstimator] = {"k1": kl_k1, "k2": kl_k2, "k3": kl_k3}
"""Estimator by config name, e.g. ``KL_ESTIMATORS[cfg.kl_estimator](logp, ref_logp)``."""
