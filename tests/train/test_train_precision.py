"""Precision: bf16 compute over float32 master weights keeps the paper's 5e-7 updates; bf16 masters lose them.

At lr 5e-7 an AdamW step moves a weight by about 5e-7, while bf16 resolves about 2^-8 of a weight's
size (~1e-4 for weights of 0.02): in bf16 parameters almost every update rounds away. With float32
masters the forward and backward still run in bf16 (autocast) but every update lands.
"""

import pytest
import torch
from safetensors.torch import load_file
from train_fakes import text_reward, tiny_overrides

from oorl.config import load_config
from oorl.train.run import run_training

pytestmark = pytest.mark.slow  # whole training runs (minutes on 2 shared cores)


def _changed_share(tmp_path, data_dir, tiny_model_dir, master: str) -> float:
    cfg = load_config(
        None,
        [
            *tiny_overrides(data_dir, tmp_path / master),
            "steps=3",
            "model.dtype=bfloat16",
            f"model.master_dtype={master}",
            "optim.lr=5e-7",
            "optim.warmup_ratio=0.0",
            "optim.schedule=constant",
            "checkpoint.every=100",
            "checkpoint.export_dtype=float32",
        ],
    )
    result = run_training(cfg, model_path=str(tiny_model_dir), reward_fn=text_reward)
    final = load_file(str(result.final_model / "model.safetensors"))
    start = load_file(str(tiny_model_dir / "model.safetensors"))
    assert {v.dtype for v in final.values()} == {torch.float32}  # the export dtype
    changed = total = 0
    for name, w in final.items():
        # the starting point as the run held it: bf16 masters start from rounded weights
        w0 = start[name].to(getattr(torch, master)).float()
        changed += int((w != w0).sum())
        total += w.numel()
    return changed / total


def test_float32_masters_keep_lr_5e7_updates_and_bf16_masters_lose_them(tmp_path, data_dir, tiny_model_dir):
    kept = _changed_share(tmp_path, data_dir, tiny_model_dir, "float32")
    lost = _changed_share(tmp_path, data_dir, tiny_model_dir, "bfloat16")
    assert kept >= 0.90, kept
    assert lost < 0.10, lost
