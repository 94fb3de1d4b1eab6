"""Deterministic stand-ins for generation and reward, for invariance tests of the trainer.

Completions are a pure function of (prompt, sample index), so any batching or rank split of the
same global batch sees the same samples; the reward is a pure function of the text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from oorl.rewards import RewardResult
from oorl.train.sequences import encode_pairs

CHOICES = [
    "```javascript\nconsole.log(1);\n```",
    "```javascript\nlet x = 2;\n```",
    "no code at all",
    "```javascript\nconst x = parseInt(require('fs').readFileSync(0, 'utf8'));\nconsole.log(x * 3 + 1);\n```",
]


class FixedBackend:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def completion(self, prompt: str, j: int) -> str:
        h = int(hashlib.sha256(f"{prompt}|{j}".encode()).hexdigest(), 16)
        return CHOICES[h % len(CHOICES)]

    def generate(self, prompts, *, n=1, **kwargs):
        texts = [self.completion(p, j) for p in prompts for j in range(n)]
        return encode_pairs(self.tokenizer, [p for p in prompts for _ in range(n)], texts)


def text_reward(tasks, texts):
    return [
        RewardResult(reward=float("console" in t), format_ok="```" in t, compiled="```" in t) for t in texts
    ]


def make_trainer(cfg, model_dir, *, dist=None, backend=None, reward_fn=text_reward):
    """A trainer on `model_dir`; `backend` None: FixedBackend, "hf": real sampling from the policy."""
    from oorl.rollout import make_backend
    from oorl.train.data import build_tasks, load_ir_groups
    from oorl.train.model import load_model
    from oorl.train.recipe import OORLTrainer

    model, tok = load_model(cfg.model, str(model_dir))
    tasks, _ = build_tasks(cfg.data)
    groups = load_ir_groups(cfg.data.ir_groups) if cfg.preference.kind != "none" else None
    return OORLTrainer(
        cfg,
        model=model,
        tokenizer=tok,
        backend=(
            (lambda engine: make_backend("hf", engine.module, tok))
            if backend == "hf"
            else backend or FixedBackend(tok)
        ),
        tasks=tasks,
        ir_groups=groups,
        reward_fn=reward_fn,
        dist=dist,
    )


def tiny_overrides(data_dir: Path, out: Path) -> list[str]:
    """A run small enough for a test: 2 steps, 2 prompts x 2 samples, 24 new tokens."""
    return [
        f"out={out}",
        "steps=2",
        "threads=1",
        "sandbox_workers=2",
        f"data.problems={data_dir / 'problems.jsonl'}",
        f"data.ir_groups={data_dir / 'groups.jsonl'}",
        "data.source_langs=[python]",
        "data.target_langs=[javascript]",
        "data.heldout_fraction=0.25",
        "tiny.vocab_size=400",
        "tiny.hidden_size=32",
        "tiny.intermediate_size=64",
        "tiny.num_heads=2",
        "tiny.num_kv_heads=1",
        "rollout.prompts_per_step=2",
        "rollout.group_size=2",
        "rollout.max_new_tokens=24",
        "onpolicy.micro_batch_size=2",
        "preference.groups_per_step=2",
        "optim.lr=1e-3",
        "log.progress=false",
        "log.tensorboard=false",
        "checkpoint.every=1",
    ]
