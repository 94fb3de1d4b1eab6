"""The rollout record and the backend protocol shared by every generation backend."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

FENCE = "```"
_OPEN = re.compile(r"```[^\n`]*\n")


def fence_closed(text: str) -> bool:
    """Whether `text` holds an opening fence line (```lang) followed later by a closing ```."""
    m = _OPEN.search(text)
    return m is not None and FENCE in text[m.end() :]


def completion_mask(completion_ids: Tensor, *, eos_id: int, pad_id: int) -> Tensor:
    """(N, C) bool: the generated tokens up to and including the first end-of-turn token.

    Positions after the end (which generate fills with `pad_id`) and pad tokens are False. A row
    that stopped on the fence criterion simply has pads after its last real token.
    """
    ended_before = torch.zeros_like(completion_ids, dtype=torch.bool)  # (N, C)
    is_end = (completion_ids == eos_id) | (completion_ids == pad_id)
    ended_before[:, 1:] = is_end[:, :-1].cumsum(-1) > 0
    return ~ended_before & (completion_ids != pad_id)


@dataclass
class RolloutBatch:
    """N = B * G samples; the G samples of prompt i are rows i*G .. i*G+G-1 (prompt-major)."""

    prompt_ids: Tensor  # (N, P) left-padded
    prompt_mask: Tensor  # (N, P) bool
    completion_ids: Tensor  # (N, C) right-padded
    completion_mask: Tensor  # (N, C) bool
    texts: list[str]  # N decoded completions (masked tokens only)

    @property
    def input_ids(self) -> Tensor:
        return torch.cat([self.prompt_ids, self.completion_ids], dim=1)  # (N, P + C)

    @property
    def attention_mask(self) -> Tensor:
        return torch.cat([self.prompt_mask, self.completion_mask], dim=1)  # (N, P + C)

    @property
    def num_tokens(self) -> int:
        return int(self.completion_mask.sum())


class RolloutBackend(Protocol):
    def generate(
        self,
        prompts: list[str],
        *,
        n: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 256,
        greedy: bool = False,
    ) -> RolloutBatch:
        """`n` completions of each chat-rendered prompt string (greedy: n must be 1)."""
        ...
