"""The on-policy loop learns: real sampling from a tiny model, a reward it can reach, every estimator.

The invariance tests elsewhere check that the loss is computed the same way under any split; this
one checks that it points the right way. A sign error in an advantage, a log-prob taken at the wrong
position or an update that never reaches the weights all leave the reward where it started.
"""

from __future__ import annotations

import pytest
import torch
from train_fakes import make_trainer, tiny_overrides

from oorl.config import load_config
from oorl.rewards import RewardResult


def digit_share(tasks, texts):
    """A dense reward the policy can raise by its token choice alone: the share of digit characters."""
    return [
        RewardResult(reward=sum(c.isdigit() for c in t) / max(len(t), 1), format_ok=True, compiled=True)
        for t in texts
    ]


@pytest.mark.parametrize("estimator", ["reinforce_pp", "reinforce_pp_baseline", "rloo", "grpo", "dr_grpo"])
def test_on_policy_training_raises_a_reachable_reward(estimator, data_dir, tiny_model_dir, tmp_path):
    cfg = load_config(
        None,
        [
            *tiny_overrides(data_dir, tmp_path / "run"),
            "steps=24",
            "preference.kind=none",
            f"onpolicy.estimator={estimator}",
            "rollout.prompts_per_step=4",
            "rollout.group_size=4",
            "rollout.max_new_tokens=8",
            "rollout.temperature=1.0",
            "onpolicy.micro_batch_size=16",
            "optim.lr=3e-2",
            "optim.warmup_ratio=0.0",
            "optim.schedule=constant",
        ],
    )
    torch.manual_seed(0)
    trainer = make_trainer(cfg, tiny_model_dir, backend="hf", reward_fn=digit_share)
    rewards = [trainer.step()["reward"] for _ in range(cfg.steps)]
    first, last = sum(rewards[:3]) / 3, sum(rewards[-3:]) / 3
    assert last > first + 0.1, f"{estimator}: reward {first:.2f} -> {last:.2f} ({rewards})"
