"""Rollouts with vLLM, an optional extra for GPU nodes (`pip install oorl[vllm]`).

This backend could not be tested here: the development machines have no GPU and vLLM is not
installed (its CPU build pins an older transformers). It follows vLLM's offline `LLM.generate`
API; weights are pushed from the policy into the engine before each rollout batch by reloading
the state dict (`llm.llm_engine.model_executor.driver_worker.model_runner.model.load_weights`),
which is the path vLLM's RLHF examples use. Treat it as a starting point, not a tested backend.
"""

from __future__ import annotations

import torch

from oorl.rollout.types import FENCE, RolloutBatch, completion_mask


class VLLMBackend:
    def __init__(self, model, tokenizer, *, gpu_memory_utilization: float = 0.4):
        try:
            from vllm import LLM
        except ImportError as e:  # an optional extra, never a core dependency
            raise ImportError("rollout.backend='vllm' needs the vllm extra: pip install 'oorl[vllm]'") from e
        self.model = model
        self.tokenizer = tokenizer
        self.llm = LLM(
            model=model.name_or_path,
            gpu_memory_utilization=gpu_memory_utilization,
            enable_prefix_caching=True,
        )

    def _sync_weights(self) -> None:
        runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
        runner.model.load_weights(self.model.state_dict().items())

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
        params = SamplingParams(
            n=n,
            temperature=0.0 if greedy else temperature,
            top_p=1.0 if greedy else top_p,
            max_tokens=max_new_tokens,
            stop=[FENCE + "\n"],  # approximates the fence criterion; the first ``` opens the block
            include_stop_str_in_output=True,
        )
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        tok = self.tokenizer
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        rows = [list(c.token_ids) for o in outputs for c in o.outputs]
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
