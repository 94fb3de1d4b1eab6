"""Per-token and per-sequence log-probabilities of sampled tokens.

Memory note. A naive ``logits.float().log_softmax(-1).gather(...)`` makes a float32 copy of the logits
and keeps a second full-vocabulary float32 tensor (the log-softmax) alive for backward. With a 150k
vocabulary those copies, not the model, dominate memory. :func:`token_logprobs` instead computes

    logp_t = logits_t[label_t] - logsumexp_v logits_t[v]

in a custom autograd function that works on chunks of rows: the forward upcasts one chunk at a time
to float32, and saves only the logits (in their own dtype) and the (B, T) float32 logsumexp; the
backward rebuilds the softmax chunk by chunk, writing ``grad * (onehot - softmax)`` straight into a
gradient of the logits' dtype. So no full-vocabulary float32 tensor ever exists, whatever the dtype,
and peak extra memory is one chunk. (TRL's ``selective_log_softmax`` makes the same trade in the
forward only.)
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

DEFAULT_CHUNK_ROWS = 1024
"""Token positions per chunk: 1024 x 150k vocab x 4 bytes = 0.6 GB of float32 scratch at most."""


def _row_chunks(batch: int, seq_len: int, chunk_rows: int):
    """Yield ``(b, slice)`` index pairs covering a (B, T) grid, at most ``chunk_rows`` positions each.

    Indexing per sequence keeps every chunk a view of the (B, T, V) logits, so a non-contiguous input
    such as ``logits[:, :-1]`` is never copied by a reshape.
    """
    for b in range(batch):
        for start in range(0, seq_len, chunk_rows):
            yield b, slice(start, start + chunk_rows)


class _TokenLogprobs(torch.autograd.Function):
    """logp[b, t] = x[b, t, y_bt] - logsumexp_v x[b, t, v], computed chunk by chunk."""

    @staticmethod
    def forward(ctx, logits: Tensor, labels: Tensor, chunk_rows: int) -> Tensor:  # type: ignore[override]
        # logits (B, T, V), labels (B, T)
        out_dtype = torch.promote_types(logits.dtype, torch.float32)  # float64 stays float64 (gradcheck)
        out = torch.empty(labels.shape, dtype=out_dtype, device=logits.device)  # (B, T)
        lse = torch.empty_like(out)  # (B, T)
        for b, ts in _row_chunks(*labels.shape, chunk_rows):
            x = logits[b, ts].to(out_dtype)  # (t, V): the only full-vocabulary scratch, one chunk
            lse[b, ts] = torch.logsumexp(x, dim=-1)
            out[b, ts] = x.gather(-1, labels[b, ts, None]).squeeze(-1) - lse[b, ts]
        ctx.save_for_backward(logits, labels, lse)
        ctx.chunk_rows = chunk_rows
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        logits, labels, lse = ctx.saved_tensors
        grad_logits = torch.empty_like(logits, memory_format=torch.contiguous_format)  # (B, T, V)
        for b, ts in _row_chunks(*labels.shape, ctx.chunk_rows):
            g = grad_out[b, ts, None]  # (t, 1)
            softmax = torch.exp(logits[b, ts].to(lse.dtype) - lse[b, ts, None])  # (t, V)
            grad = softmax.mul_(-g)  # d logp / d x_v = onehot_v - softmax_v
            grad.scatter_add_(-1, labels[b, ts, None], g)
            grad_logits[b, ts] = grad
        return grad_logits, None, None


def token_logprobs(
    logits: Tensor, labels: Tensor, mask: Tensor | None = None, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Tensor:
    """Log-probability of each label token: ``logp[b, t] = log softmax(logits[b, t])[labels[b, t]]``.

    ``logits`` and ``labels`` must already be aligned (for a causal LM: ``logits[:, :-1]`` with
    ``input_ids[:, 1:]``). Masked positions return exactly 0 and get no gradient; their labels may be
    anything (e.g. -100). The result is float32 (float64 for float64 logits). See the module docstring
    for why this does not materialise a full-vocabulary float32 copy.

    Args:
        logits: (B, T, V) any float dtype.
        labels: (B, T) integer token ids.
        mask: (B, T) bool or 0/1; None means every position counts.
        chunk_rows: rows per float32 scratch chunk.

    Returns:
        (B, T) log-probabilities, 0 where ``mask`` is false.
    """
    if mask is None:
        mask = torch.ones_like(labels, dtype=torch.bool)
    mask = mask.bool()
    safe_labels = labels.masked_fill(~mask, 0)  # any in-range id; the result is masked below
    logps = _TokenLogprobs.apply(logits, safe_labels, chunk_rows)  # (B, T)
    return torch.where(mask, logps, torch.zeros_like(logps))


def sequence_logprobs(token_logps: Tensor, mask: Tensor, *, length_normalize: bool = False) -> Tensor:
    """Per-sequence log-probability from per-token ones: ``sum_t mask * logp`` (or its mean).

    DPO and GEPO use the sum (log pi(y|x) of the whole completion, Rafailov et al. 2023);
    ``length_normalize=True`` divides by the number of completion tokens (SimPO/IPO-style), an option
    that matters for GEPO because IR lengths differ a lot across optimisation levels.

    Args:
        token_logps: (B, T).
        mask: (B, T) bool or 0/1.

    Returns:
        (B,)
    """
    mask = mask.to(token_logps.dtype)
    total = (token_logps * mask).sum(-1)  # (B,)
    if length_normalize:
        total = total / mask.sum(-1).clamp(min=1)
    return total
