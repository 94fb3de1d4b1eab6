"""The memory-light, exact GEPO gradient (Wu et al. 2025, OORL, arXiv 2505.12723).

A GEPO group holds n + m sequences, and plain autograd keeps the activations of all of them until
``loss.backward()``, so memory grows linearly with the group size (the paper's stated limitation).
The loss depends on the model only through the per-sequence log-ratios r_i, so the chain rule gives

    dL/dtheta = sum_i (dL/dr_i) * d logp_i/dtheta = d/dtheta [ sum_i g_i * logp_i ],  g_i fixed,

and the gradient can be taken in three steps whose peak memory is that of one micro-batch:

1. a no-grad forward pass over every sequence, giving every r_i;
2. the closed-form coefficients g_i = dL/dr_i (:func:`oorl.algos.preference.gepo_coefficients`);
3. per micro-batch, a forward pass with grad and ``backward()`` of ``sum_i g_i * logp_i``; gradients
   accumulate in ``.grad``.

The last micro-batch of step 1 runs with grad and its graph is kept for step 3, which saves one
forward pass at no cost in peak memory (nothing else is alive while it is held). Cost: a second forward
pass over all but one micro-batch, about +1/3 compute when a backward costs two forwards. Exactness
needs the two forward passes to agree, so the model must be deterministic (``model.eval()`` or no
dropout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from oorl.algos.preference import Variance, gepo_coefficients, gepo_loss

SeqLogpsFn = Callable[[Tensor], Tensor]
"""Maps a (b,) long tensor of sequence indices to their (b,) summed policy log-probs (with grad)."""


def gepo_backward_memory_light(
    seq_logps_fn: SeqLogpsFn,
    ref_logps: Tensor,
    winner_mask: Tensor,
    group_index: Tensor,
    *,
    micro_batch_size: int,
    beta: float = 0.1,
    lam: float = 1.0,
    variance: Variance = "population",
    beta_in_variance: bool = True,
    loss_scale: float = 1.0,
    backward: Callable[[Tensor], None] = Tensor.backward,
    min_micro_batches: int = 0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Accumulate ``d(loss_scale * gepo_loss)/dtheta`` into ``.grad`` one micro-batch at a time.

    Gives the same gradient as ``(loss_scale * gepo_loss(...)[0]).backward()`` over the whole batch,
    while holding the activations of only ``micro_batch_size`` sequences. Model-agnostic: the caller's
    ``seq_logps_fn(indices)`` runs the model on those sequences and returns their summed log-probs;
    it is called twice per sequence but the last micro-batch's (once under ``torch.no_grad()``).

    Args:
        seq_logps_fn: (b,) long indices into the N sequences -> (b,) policy log-probs.
        ref_logps, winner_mask, group_index: (N,) as in :func:`oorl.algos.preference.gepo_loss`.
        micro_batch_size: sequences per forward pass.
        beta, lam, variance, beta_in_variance: as in :func:`oorl.algos.preference.gepo_loss`.
        loss_scale: multiplies the gradient (e.g. OORL's w_gepo, or 1 / accumulation steps).
        backward: runs the backward pass of a scalar (a training engine's own, e.g. DeepSpeed's).
        min_micro_batches: pad with empty micro-batches up to this count, for engines whose
            forward and backward are collectives (every rank must run as many); ``seq_logps_fn``
            then also gets empty index tensors and must return an empty tensor tied to the model.

    Returns:
        ``(loss, metrics)`` as :func:`oorl.algos.preference.gepo_loss`, detached (loss unscaled).
    """
    if micro_batch_size < 1:
        raise ValueError(f"micro_batch_size must be >= 1, got {micro_batch_size}")
    options = {"beta": beta, "lam": lam, "variance": variance, "beta_in_variance": beta_in_variance}
    # Validate the groups before the expensive passes (zeros stand in for the log-ratios).
    gepo_loss(torch.zeros_like(ref_logps), ref_logps.detach(), winner_mask, group_index, **options)

    chunks: Sequence[Tensor] = torch.arange(ref_logps.numel()).split(micro_batch_size)
    empty = torch.zeros(0, dtype=torch.long)
    *early, last = [*chunks, *[empty] * (min_micro_batches - len(chunks))]
    with torch.no_grad():  # 1. every log-prob, no activations kept ...
        early_logps = [seq_logps_fn(idx) for idx in early]
    last_logps = seq_logps_fn(last)  # ... except the last micro-batch's, whose graph step 3 reuses
    policy_logps = torch.cat([*early_logps, last_logps.detach()])  # (N,)
    with torch.no_grad():  # 2. the closed-form g_i = dL/dr_i
        loss, metrics = gepo_loss(policy_logps, ref_logps, winner_mask, group_index, **options)
        coefs = gepo_coefficients(policy_logps, ref_logps, winner_mask, group_index, **options) * loss_scale

    _backward_weighted(coefs, last, last_logps, backward)  # 3. one micro-batch of activations at a time
    for idx in early:
        _backward_weighted(coefs, idx, seq_logps_fn(idx), backward)
    return loss.detach(), metrics


def _backward_weighted(coefs: Tensor, idx: Tensor, logps: Tensor, backward: Callable[[Tensor], None]) -> None:
    """Back-propagate ``sum_i coefs[idx_i] * logps_i``, whose gradient is that micro-batch's share."""
    backward((coefs[idx.to(coefs.device)].to(logps.dtype) * logps).sum())
