"""Rollouts with vLLM, an optional extra for GPU nodes (`pip install oorl[vllm]`).

Not run here: the development machines have no GPU and vLLM is not installed (its CPU build pins
an older transformers), so only the pure parts (`stop_reason_is_opening_fence`, the argument
mapping) are unit-tested; treat the engine calls as written against vLLM's documented API, not as
tested code.

- vLLM V1 runs in this process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`) beside the policy, and weights
  go from the policy into the engine before each rollout batch with `LLM.collective_rpc`, which calls
  `load_weights` on each worker's model (vLLM's RLHF examples do the same); the prefix cache,
  whose entries were computed with the old weights, is reset after.
- Stopping: the reward reads one fenced block, so a sample should end when that block *closes*.
  vLLM's stop strings cannot count fences, so generation stops at the first line-initial fence
  (`\\n```` or a leading ```` ``` ````); a sample whose text then holds only an opening fence is
  continued from its own tokens until the next fence, which closes the block.
"""

from __future__ import annotations

import os

import torch

from oorl.rollout.types import FENCE, RolloutBatch, completion_mask, fence_closed

STOP = "\n" + FENCE


def stops_on_opening_fence(text: str) -> bool:
    """Whether a sample that stopped at a fence stopped at the block's opening (so must go on)."""
    return (text.startswith(FENCE) or STOP in text) and not fence_closed(text)


def _load_weights(worker, weights) -> None:  # runs on each vLLM worker
    worker.model_runner.model.load_weights(weights=weights)


class VLLMBackend:
    def __init__(self, model, tokenizer, *, gpu_memory_utilization: float = 0.4):
        try:
            from vllm import LLM
        except ImportError as e:  # an optional extra, never a core dependency
            raise ImportError("rollout.backend='vllm' needs the vllm extra: pip install 'oorl[vllm]'") from e
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")  # weights pass by reference
        self.model = model
        self.tokenizer = tokenizer
        self.llm = LLM(
            model=model.name_or_path,
            dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
            gpu_memory_utilization=gpu_memory_utilization,
            enable_prefix_caching=True,
        )

    def _sync_weights(self) -> None:
        weights = [(k, v.detach()) for k, v in self.model.state_dict().items()]
        self.llm.collective_rpc(_load_weights, args=(weights,))
        self.llm.reset_prefix_cache()

    def _sample(self, prompts: list[list[int]], params) -> list[list[int]]:
        """Token ids of every sample (prompt-major), continuing those that stopped on an opening fence."""
        from vllm.inputs import TokensPrompt

        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=p) for p in prompts], params, use_tqdm=False
        )
        rows = [(i, list(c.token_ids)) for i, o in enumerate(outputs) for c in o.outputs]
        todo = [
            k
            for k, (_, ids) in enumerate(rows)
            if len(ids) < params.max_tokens and stops_on_opening_fence(self.tokenizer.decode(ids))
        ]
        if todo:
            more = [TokensPrompt(prompt_token_ids=prompts[rows[k][0]] + rows[k][1]) for k in todo]
            # one sample each, with the budget that is left
            per = [params.clone() for _ in todo]
            for k, p in zip(todo, per, strict=True):
                p.n, p.max_tokens = 1, params.max_tokens - len(rows[k][1])
            for k, o in zip(todo, self.llm.generate(more, per, use_tqdm=False), strict=True):
                rows[k][1].extend(o.outputs[0].token_ids)
        return [ids for _, ids in rows]

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
        from vllm import SamplingParams

        self._sync_weights()
        tok = self.tokenizer
        params = SamplingParams(
            n=n,
            temperature=0.0 if greedy else temperature,
            top_p=1.0 if greedy else top_p,
            top_k=-1,  # as the HF backend: samples come from the policy whose log-probs are trained
            max_tokens=max_new_tokens,
            stop=[STOP],
            include_stop_str_in_output=True,
        )
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        prompt_ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
        rows = self._sample(prompt_ids, params)
        width = max(1, max(len(r) for r in rows))
        completion_ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
        for i, r in enumerate(rows):
            completion_ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask = completion_mask(completion_ids, eos_id=tok.eos_token_id, pad_id=tok.pad_token_id)
        return RolloutBatch(
            enc["input_ids"].repeat_interleave(n, dim=0),
            enc["attention_mask"].repeat_interleave(n, dim=0).bool(),
            completion_ids,
            mask,
            tok.batch_decode(completion_ids.masked_fill(~mask, tok.pad_token_id), skip_special_tokens=True),
        )
