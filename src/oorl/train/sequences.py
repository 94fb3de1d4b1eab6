"""Prompt + completion batches and their per-token log-probs under a model.

Every batch the trainer sees (rollouts, SFT pairs, IR groups) has one layout: a left-padded prompt
next to a right-padded completion, `[pad.. prompt | completion ..pad]`, with a mask of the completion
tokens. Positions are counted from the first real token, as `generate` counts them under left
padding, so the log-probs of training forwards match those of sampling.
"""

from __future__ import annotations

import torch
from torch import Tensor

from oorl.algos import token_logprobs
from oorl.rollout import RolloutBatch


def encode_pairs(
    tokenizer,
    prompts: list[str],
    completions: list[str],
    *,
    end_of_turn: bool = True,
) -> RolloutBatch:
    """Tokenise (chat-rendered prompt, completion text) pairs into the shared layout.

    The completion gets the end-of-turn token appended (what the model must learn to emit) unless
    `end_of_turn` is False. Nothing is truncated: callers drop what does not fit.
    """
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    rows = []
    for text in completions:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if end_of_turn:
            ids = [*ids, tokenizer.eos_token_id]
        rows.append(ids)
    width = max(1, max(len(r) for r in rows))
    completion_ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.bool)
    for i, r in enumerate(rows):
        completion_ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = True
    return RolloutBatch(
        enc["input_ids"], enc["attention_mask"].bool(), completion_ids, mask, list(completions)
    )


def select(batch: RolloutBatch, rows: Tensor | slice | list[int]) -> RolloutBatch:
    """Rows of a batch, with all-padding columns at the left of the prompt and the right of the
    completion trimmed (micro-batches of short samples then cost what they need)."""
    if isinstance(rows, list):
        rows = torch.tensor(rows, dtype=torch.long)
    prompt_ids, prompt_mask = batch.prompt_ids[rows], batch.prompt_mask[rows]
    completion_ids, mask = batch.completion_ids[rows], batch.completion_mask[rows]
    p0 = int(prompt_mask.any(0).long().argmax()) if prompt_mask.any() else 0
    c1 = int(mask.any(0).nonzero().max()) + 1 if mask.any() else 1
    texts = [batch.texts[i] for i in torch.arange(len(batch.texts))[rows].tolist()]
    return RolloutBatch(prompt_ids[:, p0:], prompt_mask[:, p0:], completion_ids[:, :c1], mask[:, :c1], texts)


def completion_logprobs(model, batch: RolloutBatch, *, temperature: float = 1.0) -> Tensor:
    """(N, C) log-probs of the completion tokens under `model` (0 at masked positions), of the
    distribution softmax(logits / temperature): the one a rollout at that temperature sampled from.

    Shapes: input (N, P + C); the logits at positions P-1 .. P+C-2 predict completion tokens 0 .. C-1.
    `model` must accept `logits_to_keep` (every causal LM in transformers >= 4.45 does).
    """
    input_ids = batch.input_ids
    attention_mask = batch.attention_mask.long()
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    device = next(model.parameters()).device
    C = batch.completion_ids.shape[1]
    # Only the last C + 1 positions predict completion tokens: the LM head (a large share of a
    # small model's compute) never runs on the prompt.
    logits = model(
        input_ids=input_ids.to(device),
        attention_mask=attention_mask.to(device),
        position_ids=position_ids.to(device),
        use_cache=False,
        logits_to_keep=C + 1,
    ).logits  # (N, C + 1, V)
    logits = logits[:, :-1]  # (N, C, V): position P-1+t predicts completion token t
    if temperature != 1.0:  # in place: no second (N, C, V) copy; the LM head's backward needs none
        logits = logits.div_(temperature)
    return token_logprobs(logits, batch.completion_ids.to(device), batch.completion_mask.to(device))
