"""Resumable checkpoints: the HF-format model plus everything needed to continue *exactly*.

    <out>/checkpoints/step-000040/
        model.safetensors, config.json, tokenizer files   (save_pretrained: loadable on its own)
        trainer.pt    optimizer, scheduler, step, data positions
        rng-rank{r}.pt  python, numpy and torch RNG states of each rank

A checkpoint is written into a temporary folder and renamed into place, so a crash mid-save never
leaves a folder that looks complete. Older step folders beyond `keep_last` are removed after.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oorl.train.dist import Dist

_PREFIX = "step-"


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def step_dir(root: Path, step: int) -> Path:
    return Path(root) / f"{_PREFIX}{step:06d}"


def latest_checkpoint(root: str | Path) -> Path | None:
    """The newest complete step folder under `root`, or None."""
    root = Path(root)
    if not root.is_dir():
        return None
    done = sorted(
        p for p in root.iterdir() if p.is_dir() and p.name.startswith(_PREFIX) and (p / "trainer.pt").exists()
    )
    return done[-1] if done else None


def save_checkpoint(
    root: str | Path,
    *,
    step: int,
    model,
    tokenizer,
    optimizer: torch.optim.Optimizer,
    scheduler,
    data_state: dict[str, Any],
    dist: Dist,
    keep_last: int = 2,
) -> Path:
    """Write step `step` atomically (all ranks call this: each saves its RNG states)."""
    root = Path(root)
    final = step_dir(root, step)
    tmp = root / f".tmp-{final.name}"
    if dist.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    dist.barrier()
    torch.save(rng_state(), tmp / f"rng-rank{dist.rank}.pt")
    if dist.is_main:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        torch.save(
            {
                "step": step,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "data": data_state,
                "world_size": dist.world_size,
            },
            tmp / "trainer.pt",
        )
    dist.barrier()
    if dist.is_main:
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        older = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(_PREFIX))
        for old in older[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return final


def load_checkpoint(path: str | Path, *, model, optimizer, scheduler, dist: Dist) -> dict[str, Any]:
    """Restore weights, optimizer, scheduler and this rank's RNG from `path`; returns the trainer state."""
    from safetensors.torch import load_file

    path = Path(path)
    state = torch.load(path / "trainer.pt", weights_only=False)
    if state["world_size"] != dist.world_size:
        raise ValueError(
            f"{path} was written by {state['world_size']} ranks; resuming with {dist.world_size}"
        )
    weights = load_file(path / "model.safetensors")
    missing, unexpected = model.load_state_dict(weights, strict=False)
    # Tied embeddings are saved once; everything else must match.
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise ValueError(
            f"{path}: weights do not match the model (missing {missing}, unexpected {unexpected})"
        )
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    set_rng_state(torch.load(path / f"rng-rank{dist.rank}.pt", weights_only=False))
    return state
