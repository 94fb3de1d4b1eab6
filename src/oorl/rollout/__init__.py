"""Generation backends behind one small interface: prompts in, token-level rollouts out.

    backend = make_backend("hf", model, tokenizer)
    batch = backend.generate(prompts, n=G, temperature=1.0, top_p=1.0, max_new_tokens=256)
    batch.completion_ids  # (B * G, C), the G samples of prompt i at rows i*G .. i*G+G-1

Every backend stops a sample once its answer's fenced code block closes (the reward only reads
that block, so tokens after it are wasted compute) or at the end-of-turn token.

`oorl.rollout.openai.OpenAIBackend` asks any OpenAI-compatible server instead: text in, text out
(no token ids or log-probs, so it serves evaluation, `oorl eval --backend openai`, not training).
"""

from __future__ import annotations

from oorl.rollout.types import RolloutBackend, RolloutBatch, completion_mask, fence_closed

__all__ = ["RolloutBackend", "RolloutBatch", "completion_mask", "fence_closed", "make_backend"]


def make_backend(
    name: str,
    model,
    tokenizer,
    *,
    generation_batch_size: int | None = None,
    synced_ranks: bool = False,
    gpu_memory_utilization: float = 0.4,
) -> RolloutBackend:
    """The backend called `name` ('hf' or 'vllm') over `model` and `tokenizer`.

    `generation_batch_size` bounds the sequences (prompts x samples) of one generate call (hf);
    `synced_ranks` keeps every rank generating until all are done, which sharded parameters need
    (hf: FSDP, ZeRO-3); `gpu_memory_utilization` is vLLM's share of the GPU.
    """
    if name == "hf":
        from oorl.rollout.hf import HFBackend

        return HFBackend(
            model, tokenizer, generation_batch_size=generation_batch_size, synced_ranks=synced_ranks
        )
    if name == "vllm":
        from oorl.rollout.vllm import VLLMBackend

        return VLLMBackend(model, tokenizer, gpu_memory_utilization=gpu_memory_utilization)
    raise ValueError(f"unknown rollout backend {name!r}; known: hf, vllm")
