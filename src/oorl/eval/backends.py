"""Where evaluation answers come from: a model (hf, vllm), a served model (openai), or an oracle.

Every backend answers `generate(items, n=..., temperature=..., max_new_tokens=..., seed=...)` with
`n` completions per item. `temperature == 0` is greedy. Chat-style items (translation) are rendered
with the model's chat template by the same `render_prompt` training uses; completion-style items
(MultiPL-E, HumanEval-X) are continued as raw text.

The oracles prove the harness end to end without a model: `reference` answers with the dataset's
canonical solution (so everything should pass), `shuffled` with another problem's canonical solution
in the same language (so almost nothing should).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from oorl.eval.benches import EvalItem

BACKENDS = ("hf", "vllm", "openai", "reference", "shuffled")


class Generator(Protocol):
    def generate(
        self, items: Sequence[EvalItem], *, n: int, temperature: float, max_new_tokens: int, seed: int
    ) -> list[list[str]]:
        """`n` completions of each item, in order."""
        ...


def item_seed(seed: int, item: EvalItem) -> int:
    """A per-item sampling seed, stable across runs and resumes."""
    return int.from_bytes(hashlib.sha256(f"{seed}|{item.uid}".encode()).digest()[:4], "big")


class ReferenceBackend:
    """Answers with the item's canonical solution."""

    def __init__(self, items: Sequence[EvalItem]):
        missing = sorted({i.bench for i in items if not i.reference})
        if missing:
            raise ValueError(
                f"{', '.join(missing)} ships no canonical solutions: the reference backend cannot answer it"
            )

    def generate(self, items, *, n, temperature=0.0, max_new_tokens=0, seed=0):
        return [[item.reference] * n for item in items]


class ShuffledBackend(ReferenceBackend):
    """Answers with the canonical solution of the next problem (cyclically) of the same language or
    direction: well-formed, compilable code for the wrong problem."""

    def __init__(self, items: Sequence[EvalItem]):
        super().__init__(items)
        by_key: dict[str, list[EvalItem]] = defaultdict(list)
        for item in items:
            by_key[item.key].append(item)
        self.other = {
            group[i].uid: group[(i + 1) % len(group)].reference
            for group in by_key.values()
            for i in range(len(group))
        }

    def generate(self, items, *, n, temperature=0.0, max_new_tokens=0, seed=0):
        return [[self.other[item.uid]] * n for item in items]


class OpenAIGenerator:
    """A served model behind an OpenAI-compatible endpoint (`oorl.rollout.openai`)."""

    def __init__(
        self, model: str, *, base_url: str, api_key_env: str = "OPENAI_API_KEY", concurrency: int = 32
    ):
        from oorl.rollout.openai import OpenAIBackend

        self.client = OpenAIBackend.from_env(
            model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency
        )

    def generate(self, items, *, n, temperature, max_new_tokens, seed):
        from oorl.rollout.openai import TextRequest

        return self.client.complete(
            [
                TextRequest(
                    prompt=item.prompt,
                    n=n,
                    temperature=temperature,
                    max_tokens=max_new_tokens,
                    stop=item.stop,
                    chat=item.chat,
                    seed=item_seed(seed, item),
                )
                for item in items
            ]
        )


def render(item: EvalItem, tokenizer) -> str:
    """The text a local model continues: the training prompt (chat-rendered) or the raw prefix."""
    from oorl.tasks.prompts import render_prompt

    return render_prompt(item.task, tokenizer) if item.chat and item.task is not None else item.prompt


class HFGenerator:
    """A local or hub model run with `transformers` through the trainer's own rollout backend."""

    def __init__(self, model: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from oorl.rollout.hf import HFBackend

        tok = AutoTokenizer.from_pretrained(model)
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
        m = AutoModelForCausalLM.from_pretrained(model, torch_dtype=dtype).to(device).eval()
        self.tokenizer = tok
        self.backend = HFBackend(m, tok)

    def generate(self, items, *, n, temperature, max_new_tokens, seed):
        import torch

        greedy = temperature == 0
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(item_seed(seed, items[0]) if items else seed)
            batch = self.backend.generate(
                [render(i, self.tokenizer) for i in items],
                n=n,
                greedy=greedy,
                temperature=1.0 if greedy else temperature,
                max_new_tokens=max_new_tokens,
            )
        return [batch.texts[k * n : (k + 1) * n] for k in range(len(items))]


class VLLMGenerator:
    """vLLM's offline engine (`pip install oorl[vllm]`, a GPU). Not exercised by the test suite (no
    GPU there); `openai` against `vllm serve` is the tested way to use vLLM."""

    def __init__(self, model: str):
        try:
            from vllm import LLM
        except ImportError as e:
            raise ImportError("--backend vllm needs the vllm extra: pip install 'oorl[vllm]'") from e
        self.llm = LLM(model=model, enable_prefix_caching=True)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, items, *, n, temperature, max_new_tokens, seed):
        from vllm import SamplingParams

        params = [
            SamplingParams(
                n=n,
                temperature=temperature,
                max_tokens=max_new_tokens,
                stop=list(i.stop),
                seed=item_seed(seed, i),
            )
            for i in items
        ]
        outputs = self.llm.generate([render(i, self.tokenizer) for i in items], params, use_tqdm=False)
        return [[c.text for c in o.outputs] for o in outputs]


def make_generator(
    name: str,
    model: str | None,
    items: Sequence[EvalItem],
    *,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    concurrency: int = 32,
) -> Generator:
    """The backend called `name`; `reference` and `shuffled` ignore `model`."""
    if name == "reference":
        return ReferenceBackend(items)
    if name == "shuffled":
        return ShuffledBackend(items)
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    if not model:
        raise ValueError(f"--backend {name} needs --model")
    if name == "openai":
        if not base_url:
            raise ValueError("--backend openai needs --base-url (e.g. http://localhost:8000/v1)")
        return OpenAIGenerator(model, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency)
    if name == "vllm":
        return VLLMGenerator(model)
    return HFGenerator(model)
