"""Preference losses on per-sequence log-probs: DPO, IPO and GEPO.

Inputs are *summed* log-probs of whole completions, ``log pi(y|x) = sum_t log pi(y_t | x, y_<t)``
(see :func:`oorl.algos.logprobs.sequence_logprobs`; length-normalised ones work too and are the
caller's choice). Reference log-probs are normally computed under ``torch.no_grad()``; the functions
do not detach them, so that gradients can be checked with respect to every input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

Variance = Literal["population", "sample"]


# ---------------------------------------------------------------------------------------------------
# DPO and IPO (pairs)
# ---------------------------------------------------------------------------------------------------


def ties_half(gap: Tensor) -> Tensor:
    """1 where the winner's side is ahead, 0 where behind, 1/2 for a tie: a policy equal to its
    reference (every log-ratio 0, as at a run's first step) scores chance, not 0."""
    return (gap > 0).to(gap.dtype) + 0.5 * (gap == 0).to(gap.dtype)


def _pair_metrics(chosen_ratio: Tensor, rejected_ratio: Tensor, beta: float) -> dict[str, Tensor]:
    with torch.no_grad():
        return {
            "reward_chosen": beta * chosen_ratio.mean(),
            "reward_rejected": beta * rejected_ratio.mean(),
            "margin": beta * (chosen_ratio - rejected_ratio).mean(),
            "accuracy": ties_half(chosen_ratio - rejected_ratio).mean(),
        }


def dpo_loss(
    policy_chosen_logps: Tensor,
    policy_rejected_logps: Tensor,
    ref_chosen_logps: Tensor,
    ref_rejected_logps: Tensor,
    *,
    beta: float = 0.1,
    label_smoothing: float = 0.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """DPO sigmoid loss (Rafailov et al. 2023, eq. 7), with conservative-DPO label smoothing eps.

    With ``delta = (lp_w - lp_ref_w) - (lp_l - lp_ref_l)``::

        L = mean over pairs of  -(1 - eps) log sigmoid(beta delta) - eps log sigmoid(-beta delta)

    Args:
        all four: (P,) summed log-probs of P chosen/rejected pairs.

    Returns:
        ``(loss, metrics)``; metrics are detached 0-d tensors: ``reward_chosen``/``reward_rejected``
        (mean implicit reward ``beta * (lp - lp_ref)``), ``margin`` (mean ``beta * delta``),
        ``accuracy`` (share of pairs with ``delta > 0``, ties counting one half).
    """
    chosen_ratio = policy_chosen_logps - ref_chosen_logps  # (P,)
    rejected_ratio = policy_rejected_logps - ref_rejected_logps  # (P,)
    logits = beta * (chosen_ratio - rejected_ratio)  # (P,)
    losses = -(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)
    return losses.mean(), _pair_metrics(chosen_ratio, rejected_ratio, beta)


def ipo_loss(
    policy_chosen_logps: Tensor,
    policy_rejected_logps: Tensor,
    ref_chosen_logps: Tensor,
    ref_rejected_logps: Tensor,
    *,
    beta: float = 0.1,
) -> tuple[Tensor, dict[str, Tensor]]:
    """IPO loss (Azar et al. 2023, eq. 17): ``L = mean (delta - 1 / (2 beta))^2``, delta as in DPO.

    Here ``beta`` is the paper's regularisation tau. Azar et al. (and TRL) use log-probs *averaged*
    over tokens for IPO; pass length-normalised log-probs for that reading.

    Returns:
        ``(loss, metrics)`` with the same metrics as :func:`dpo_loss`.
    """
    chosen_ratio = policy_chosen_logps - ref_chosen_logps  # (P,)
    rejected_ratio = policy_rejected_logps - ref_rejected_logps  # (P,)
    losses = (chosen_ratio - rejected_ratio - 1 / (2 * beta)).pow(2)
    return losses.mean(), _pair_metrics(chosen_ratio, rejected_ratio, beta)


def dpo_pairs(winner_mask: Tensor, group_index: Tensor) -> tuple[Tensor, Tensor]:
    """Every (winner, loser) pair of the same group, as two (P,) index tensors into the sequences:
    the DPO ablation of GEPO (paper Table 4) trains on all n x m pairs of each group.

    Args:
        winner_mask: (N,) bool. group_index: (N,) integer group id.
    """
    same = group_index[:, None] == group_index[None, :]  # (N, N)
    pairs = (same & winner_mask[:, None] & ~winner_mask[None, :]).nonzero()  # (P, 2), winner-major
    return pairs[:, 0], pairs[:, 1]


# ---------------------------------------------------------------------------------------------------
# GEPO (groups)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GroupStats:
    """Per-group statistics of the log-ratios r over N sequences in K groups."""

    group: Tensor  # (N,) dense group id in [0, K)
    winner: Tensor  # (N,) bool
    n: Tensor  # (K,) winners per group
    m: Tensor  # (K,) losers per group
    mean_w: Tensor  # (K,) mean_W r
    mean_l: Tensor  # (K,) mean_L r
    deviation: Tensor  # (N,) r - mean_W r for winners, 0 for losers
    var_denominator: Tensor  # (K,) n (population) or max(n - 1, 1) (sample)


def _segment_sum(x: Tensor, group: Tensor, num_groups: int) -> Tensor:
    """(N,) -> (K,) per-group sums, vectorised with index_add (no loop over groups)."""
    return torch.zeros(num_groups, dtype=x.dtype, device=x.device).index_add(0, group, x)


def _group_stats(
    policy_logps: Tensor, ref_logps: Tensor, winner_mask: Tensor, group_index: Tensor, variance: Variance
) -> _GroupStats:
    """Validate GEPO's inputs and compute the per-group statistics of r = policy_logps - ref_logps."""
    shapes = [tuple(x.shape) for x in (policy_logps, ref_logps, winner_mask, group_index)]
    if policy_logps.dim() != 1 or len(set(shapes)) != 1:
        raise ValueError(f"GEPO inputs must be 1-D tensors of one length, got shapes {shapes}")
    if policy_logps.numel() == 0:
        raise ValueError("GEPO needs at least one group, got no sequences")
    if winner_mask.dtype != torch.bool:
        raise ValueError(f"winner_mask must be a bool tensor, got {winner_mask.dtype}")
    if group_index.dtype.is_floating_point or group_index.dtype == torch.bool:
        raise ValueError(f"group_index must be an integer tensor, got {group_index.dtype}")
    if variance not in ("population", "sample"):
        raise ValueError(f"variance must be 'population' or 'sample', got {variance!r}")

    ids, group = torch.unique(group_index, return_inverse=True)  # ids (K,), group (N,)
    num_groups = ids.numel()
    log_ratios = policy_logps - ref_logps  # (N,)
    w = winner_mask.to(log_ratios.dtype)  # (N,)
    n, m = _segment_sum(w, group, num_groups), _segment_sum(1 - w, group, num_groups)
    if bool((n == 0).any() or (m == 0).any()):
        bad = ids[(n == 0) | (m == 0)].tolist()
        raise ValueError(f"every GEPO group needs >= 1 winner and >= 1 loser; groups {bad} do not")

    mean_w = _segment_sum(log_ratios * w, group, num_groups) / n
    mean_l = _segment_sum(log_ratios * (1 - w), group, num_groups) / m
    deviation = (log_ratios - mean_w[group]) * w
    var_denominator = n if variance == "population" else (n - 1).clamp(min=1)
    return _GroupStats(group, winner_mask, n, m, mean_w, mean_l, deviation, var_denominator)


def gepo_loss(
    policy_logps: Tensor,
    ref_logps: Tensor,
    winner_mask: Tensor,
    group_index: Tensor,
    *,
    beta: float = 0.1,
    lam: float = 1.0,
    variance: Variance = "population",
    beta_in_variance: bool = True,
) -> tuple[Tensor, dict[str, Tensor]]:
    """GEPO, Group *Equivalent* Preference Optimization (Wu et al. 2025, OORL, arXiv 2505.12723).

    Not the unrelated "Group Expectation Policy Optimization". Per group k, with the log-ratio
    ``r_i = log pi(y_i|x) - log pi_ref(y_i|x)`` of each of its n winners (equivalent IRs, W) and m
    losers (inequivalent IRs, L)::

        D_k = beta * (mean_{i in W} r_i - mean_{j in L} r_j)
        L_k = -log sigmoid(D_k) + lam * Var_{i in W}(c * r_i)
        L   = mean over groups of L_k

    Choices the paper leaves open:

    - ``beta``: not given; 0.1 as in DPO.
    - ``variance``: ``"population"`` (divide by n; the natural reading, the default) or ``"sample"``
      (divide by n - 1; defined as 0 for a single winner).
    - ``beta_in_variance``: the paper writes the variance of the implicit reward ``r_hat = beta r``,
      so ``c = beta`` (default, the literal reading); ``False`` gives ``c = 1``. Note that with
      ``beta = 0.1`` the literal reading scales the variance term by 0.01.
    - summed log-probs (as DPO); pass length-normalised ones for the other reading.

    Args:
        policy_logps: (N,) summed log-probs of every sequence of every group, under the policy.
        ref_logps: (N,) the same under the frozen reference.
        winner_mask: (N,) bool, True for winners.
        group_index: (N,) integer group id; ids are arbitrary, groups may differ in size and be
            interleaved. Every group needs >= 1 winner and >= 1 loser (else ValueError).

    Returns:
        ``(loss, metrics)``; metrics are detached 0-d tensors averaged over groups: ``margin`` (D),
        ``winner_var`` (Var_W(c r)), ``accuracy`` (share of groups with mean_W r > mean_L r, ties one half),
        ``pref_loss`` (-log sigmoid(D)) and ``var_loss`` (lam * Var_W(c r)).
    """
    stats = _group_stats(policy_logps, ref_logps, winner_mask, group_index, variance)
    c = beta if beta_in_variance else 1.0
    margin = beta * (stats.mean_w - stats.mean_l)  # (K,)
    squares = _segment_sum(stats.deviation.pow(2), stats.group, stats.n.numel())  # (K,) sum_W (r - mean_W)^2
    winner_var = c**2 * squares / stats.var_denominator  # (K,) Var_W(c r)
    pref_loss = -F.logsigmoid(margin)  # (K,)
    var_loss = lam * winner_var  # (K,)
    loss = (pref_loss + var_loss).mean()
    with torch.no_grad():
        metrics = {
            "margin": margin.mean(),
            "winner_var": winner_var.mean(),
            "accuracy": ties_half(stats.mean_w - stats.mean_l).mean(),
            "pref_loss": pref_loss.mean(),
            "var_loss": var_loss.mean(),
        }
    return loss, metrics


def gepo_coefficients(
    policy_logps: Tensor,
    ref_logps: Tensor,
    winner_mask: Tensor,
    group_index: Tensor,
    *,
    beta: float = 0.1,
    lam: float = 1.0,
    variance: Variance = "population",
    beta_in_variance: bool = True,
) -> Tensor:
    """Closed-form ``g_i = dL/dr_i = dL/d policy_logps_i`` of :func:`gepo_loss`, same options.

    With K groups, ``s_k = sigmoid(-D_k)``, ``c`` as in :func:`gepo_loss` and ``d = n`` (population)
    or ``n - 1`` (sample)::

        winner i of group k:  g_i = (-beta s_k / n_k + 2 lam c^2 (r_i - mean_W r) / d_k) / K
        loser  j of group k:  g_j = ( beta s_k / m_k) / K

    (the variance term's gradient needs no term through mean_W because deviations sum to zero; with
    one winner the deviation is exactly 0, so the sample variance's convention is consistent). Used by
    the memory-light path: ``sum_i g_i * logp_i`` has the same gradient as the loss.

    Returns:
        (N,) detached coefficients.
    """
    with torch.no_grad():
        stats = _group_stats(policy_logps, ref_logps, winner_mask, group_index, variance)
        c = beta if beta_in_variance else 1.0
        s = torch.sigmoid(-beta * (stats.mean_w - stats.mean_l))  # (K,)
        g = stats.group  # (N,)
        winner_coef = -beta * s[g] / stats.n[g] + 2 * lam * c**2 * stats.deviation / stats.var_denominator[g]
        loser_coef = beta * s[g] / stats.m[g]
        return torch.where(stats.winner, winner_coef, loser_coef) / stats.n.numel()
