"""PPO clipped surrogate policy loss (Schulman et al. 2017) as REINFORCE++/OpenRLHF and verl use it.

Per token, with ``rho_t = exp(logp_t - old_logp_t)``::

    l_t = -min(rho_t * A_t, clip(rho_t, 1 - eps_low, 1 + eps_high) * A_t)

(asymmetric ``eps_high > eps_low`` is DAPO's "clip-higher", Yu et al. 2025). Aggregations:

- ``token-mean``:          sum_{b,t} m l / num_tokens             (default; OpenRLHF, verl)
- ``seq-mean-token-mean``: sum_b [sum_t m l / sum_t m] / num_seqs (GRPO paper)
- ``seq-mean-token-sum``:  sum_b [sum_t m l] / num_seqs           (Dr. GRPO up to a constant)

Gradient accumulation. By default ``num_tokens`` / ``num_seqs`` are this micro-batch's own counts, so
the loss is a mean over the micro-batch. To make k micro-batches summed equal one batch, pass the
counts of the *whole optimizer step* (all micro-batches, and all ranks if gradients are averaged
across ranks, times the world size); then ``sum over micro-batches of loss`` equals the one-batch loss.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Aggregation = Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]


def aggregate_loss(
    token_loss: Tensor,
    mask: Tensor,
    *,
    aggregation: Aggregation = "token-mean",
    num_tokens: float | Tensor | None = None,
    num_seqs: float | Tensor | None = None,
) -> Tensor:
    """Reduce a (B, T) per-token loss to a scalar; see the module docstring for the formulas.

    ``num_tokens`` is the token-mean normaliser and ``num_seqs`` the seq-mean one (default: this
    micro-batch's counts). Passing the one the aggregation does not use is an error.
    """
    mask = mask.to(token_loss.dtype)
    if aggregation == "token-mean":
        if num_seqs is not None:
            raise ValueError("token-mean is normalised by num_tokens, not num_seqs")
        return (token_loss * mask).sum() / (mask.sum() if num_tokens is None else num_tokens)
    if num_tokens is not None:
        raise ValueError(f"{aggregation} is normalised by num_seqs, not num_tokens")
    per_seq = (token_loss * mask).sum(-1)  # (B,)
    if aggregation == "seq-mean-token-mean":
        per_seq = per_seq / mask.sum(-1).clamp(min=1)
    elif aggregation != "seq-mean-token-sum":
        raise ValueError(f"unknown aggregation {aggregation!r}")
    return per_seq.sum() / (per_seq.shape[0] if num_seqs is None else num_seqs)


def ppo_policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    eps_low: float = 0.2,
    eps_high: float = 0.2,
    aggregation: Aggregation = "token-mean",
    num_tokens: float | Tensor | None = None,
    num_seqs: float | Tensor | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """PPO clipped policy loss ``-min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A)``, aggregated.

    Args:
        logp: (B, T) log-probs of the sampled tokens under the policy being trained (with grad).
        old_logp: (B, T) under the rollout policy (treated as constant).
        advantages: (B, T) (treated as constant).
        mask: (B, T) completion tokens.
        num_tokens, num_seqs: global normalisers for gradient accumulation (module docstring).

    Returns:
        ``(loss, metrics)``; metrics are detached 0-d tensors, token means over this micro-batch:
        ``clip_frac`` (share of tokens where the clipped term is the one taken, i.e. it has no
        gradient), ``approx_kl`` (k3 estimate of KL(old || new): mean of ``rho - 1 - log rho``),
        ``ratio_mean``.
    """
    log_ratio = logp - old_logp.detach()  # (B, T)
    ratio = log_ratio.exp()
    advantages = advantages.detach()
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - eps_low, 1 + eps_high)
    token_loss = torch.maximum(unclipped, clipped)  # = -min(rho A, clip(rho) A)
    loss = aggregate_loss(token_loss, mask, aggregation=aggregation, num_tokens=num_tokens, num_seqs=num_seqs)

    with torch.no_grad():
        m = mask.to(token_loss.dtype)
        count = m.sum().clamp(min=1)
        metrics = {
            "clip_frac": ((clipped > unclipped).to(m.dtype) * m).sum() / count,
            "approx_kl": ((ratio - 1 - log_ratio) * m).sum() / count,
            "ratio_mean": (ratio * m).sum() / count,
        }
    return loss, metrics
