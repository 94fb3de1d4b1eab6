"""GEPO's own held-out signal: does the policy prefer the IRs equivalent to a source program?

GEPO's implicit reward of an IR y for the source x is r(y) = beta * (log pi(y|x) - log pi_ref(y|x)),
the quantity its loss raises for winners and lowers for losers (docs/ALGORITHMS.md). On IR groups
of source programs never trained on (split like the translation problems, oorl.train.data):

- pair accuracy: over every (winner, loser) pair of a group, the share where the winner's reward
  is higher;
- group accuracy: the share of groups whose mean winner reward is higher than the mean loser's;
- margin: the mean over groups of beta * (mean_W r - mean_L r), GEPO's D;
- matched accuracy: pair accuracy over the pairs of a loser and the winner it was mutated from (same
  optimisation level): two IRs that differ at one site and hardly in length, so a drift of the
  log-probs with sequence length, which any training causes, cannot decide them.

Ties count one half, so a policy equal to its reference (every r = 0, e.g. the SFT model against
itself) scores exactly 0.5, chance. Only the policy and the reference are needed: two no-grad
passes over the groups (the reference's can be kept and reused for every policy of a run).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from oorl.algos import sequence_logprobs
from oorl.algos.preference import ties_half
from oorl.train.data import IRSequence, fit_ir_groups, ir_prompt, ir_text
from oorl.train.sequences import completion_logprobs, encode_pairs


@dataclass(frozen=True)
class IREvalSet:
    """The held-out IR sequences of an evaluation, flattened: S winners and losers of K groups."""

    groups: list  # the IRGroups, indexed by IRSequence.group
    seqs: list[IRSequence]
    winner: Tensor  # (S,) bool
    group: Tensor  # (S,) long
    matched: Tensor  # (S, S) bool: winner row, loser column, the loser mutated from that winner
    dropped: dict[str, int]

    @property
    def n_groups(self) -> int:
        return int(torch.unique(self.group).numel()) if self.seqs else 0

    def fingerprint(self) -> str:
        """A digest of what is scored (each sequence's group, role and IR text): log-probs kept for
        one set are never reused for another."""
        h = hashlib.sha256()
        for s in self.seqs:
            h.update(f"{self.groups[s.group].id}\0{int(s.winner)}\0{s.ir}\0".encode())
        return h.hexdigest()


@dataclass(frozen=True)
class IRPreferenceEval:
    pair_accuracy: float
    group_accuracy: float
    margin: float
    matched_accuracy: float | None  # None without matched pairs
    n_groups: int
    n_pairs: int
    n_matched: int

    def to_dict(self) -> dict:
        return asdict(self)


def ir_eval_set(
    groups: list,
    tokenizer,
    *,
    max_tokens: int,
    compact: bool,
    max_groups: int,
    max_winners: int | None = None,
    max_losers: int | None = None,
) -> IREvalSet:
    """The first `max_groups` of `groups` that fit `max_tokens` whole (none is cut, as in training),
    with their first `max_winners` winners and `max_losers` losers (None: all, so that every loser's
    parent winner is there)."""
    usable, dropped = fit_ir_groups(
        groups, tokenizer, max_tokens, max_winners=max_winners, max_losers=max_losers, compact=compact
    )
    seqs = [s for _, group_seqs in usable[:max_groups] for s in group_seqs]
    matched = torch.tensor(
        [
            [a.group == b.group and a.winner and not b.winner and b.levels[0] in a.levels for b in seqs]
            for a in seqs
        ],
        dtype=torch.bool,
    ).reshape(len(seqs), len(seqs))
    return IREvalSet(
        groups=groups,
        seqs=seqs,
        winner=torch.tensor([s.winner for s in seqs], dtype=torch.bool),
        group=torch.tensor([s.group for s in seqs], dtype=torch.long),
        matched=matched,
        dropped=dropped,
    )


@torch.no_grad()
def ir_logprobs(
    model, tokenizer, data: IREvalSet, *, micro_batch_size: int = 8, length_normalize: bool = False
) -> Tensor:
    """(S,) summed (or length-normalised) log-probs of every IR given its group's prompt."""
    out = []
    for i in range(0, len(data.seqs), micro_batch_size):
        chunk = data.seqs[i : i + micro_batch_size]
        batch = encode_pairs(
            tokenizer,
            [ir_prompt(data.groups[s.group], tokenizer) for s in chunk],
            [ir_text(s.ir) for s in chunk],
        )
        tok = completion_logprobs(model, batch)
        mask = batch.completion_mask.to(tok.device)
        out.append(sequence_logprobs(tok, mask, length_normalize=length_normalize).float().cpu())
    return torch.cat(out) if out else torch.zeros(0)


def preference_metrics(
    policy_logps: Tensor,
    ref_logps: Tensor,
    winner: Tensor,
    group: Tensor,
    *,
    beta: float,
    matched: Tensor | None = None,
) -> IRPreferenceEval:
    """Pair, group and matched accuracy and the margin of the implicit rewards (module docstring);
    `matched` (S, S) marks the (winner, loser) pairs of a loser and its parent winner."""
    reward = beta * (policy_logps.double() - ref_logps.double())  # (S,)
    same = group[:, None] == group[None, :]
    pairs = same & winner[:, None] & ~winner[None, :]  # (S, S): winner row, loser column
    right = ties_half(reward[:, None] - reward[None, :])  # (S, S)
    n_pairs = int(pairs.sum())
    pair_accuracy = float(right[pairs].sum()) / max(n_pairs, 1)
    n_matched = int(matched.sum()) if matched is not None else 0
    matched_accuracy = float(right[matched].sum()) / n_matched if n_matched else None
    ids, dense = torch.unique(group, return_inverse=True)
    k = ids.numel()
    w = winner.double()

    def group_mean(weights: Tensor) -> Tensor:
        total = torch.zeros(k, dtype=torch.float64).index_add(0, dense, reward * weights)
        return total / torch.zeros(k, dtype=torch.float64).index_add(0, dense, weights)

    gap = group_mean(w) - group_mean(1 - w)  # (K,) mean_W r - mean_L r, already times beta
    return IRPreferenceEval(
        pair_accuracy=pair_accuracy,
        group_accuracy=float(ties_half(gap).mean()) if k else 0.0,
        margin=float(gap.mean()) if k else 0.0,
        matched_accuracy=matched_accuracy,
        n_groups=k,
        n_pairs=n_pairs,
        n_matched=n_matched,
    )
