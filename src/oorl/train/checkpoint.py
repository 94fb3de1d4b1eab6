"""Resumable checkpoints: the HF-format model plus everything needed to continue *exactly*.

    <out>/checkpoints/step-000040/
        model.safetensors, config.json, tokenizer files   (save_pretrained in checkpoint.export_dtype:
                                                           loadable on its own by transformers, vLLM)
        engine state    the engine's own (oorl.train.engine): optimizer, schedule and, when the
                        export dtype is not the master dtype, the master weights
                        (ddp: engine.pt; fsdp: engine/ via torch.distributed.checkpoint;
                        deepspeed: engine/ via DeepSpeed's save_checkpoint)
        trainer.pt      step, data positions, world size
        rng-rank{r}.pt  python, numpy and torch RNG states of each rank

A checkpoint is written into a temporary folder and renamed into place, so a crash mid-save never
leaves a folder that looks complete. Older step folders beyond `keep_last` are removed after.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oorl.train.dist import Dist
from oorl.train.model import DTYPES

_PREFIX = "step-"


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


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


def export_model(engine, tokenizer, folder: Path, dtype: str) -> None:
    """`save_pretrained` of the whole model in `dtype` (every rank calls this; the main rank writes)."""
    state = engine.full_state_dict()
    if not engine.dist.is_main:
        return
    folder.mkdir(parents=True, exist_ok=True)
    module = engine.module
    if engine.cfg.model.lora.enabled:
        module.save_pretrained(folder)  # the adapters; the base model is the one started from
    else:
        target = DTYPES[dtype]
        # a tied weight (lm_head = embeddings) is saved once, under its first name, as HF does
        aliases = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        aliases -= {n for n, _ in module.named_parameters()}
        state = {
            k: v.to(target) if v.is_floating_point() else v for k, v in state.items() if k not in aliases
        }
        module.save_pretrained(folder, state_dict=state)
        config = folder / "config.json"
        data = json.loads(config.read_text())
        data["dtype"] = dtype  # what the weights are, whatever the module held
        config.write_text(json.dumps(data, indent=2) + "\n")
    tokenizer.save_pretrained(folder)


def save_checkpoint(
    root: str | Path,
    *,
    step: int,
    engine,
    tokenizer,
    data_state: dict[str, Any],
    keep_last: int = 2,
) -> Path:
    """Write step `step` atomically (every rank calls this)."""
    dist: Dist = engine.dist
    root = Path(root)
    final = step_dir(root, step)
    tmp = root / f".tmp-{final.name}"
    if dist.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    dist.barrier()
    torch.save(rng_state(), tmp / f"rng-rank{dist.rank}.pt")
    export_model(engine, tokenizer, tmp, engine.cfg.checkpoint.export_dtype)
    engine.save_state(tmp)
    if dist.is_main:
        torch.save({"step": step, "data": data_state, "world_size": dist.world_size}, tmp / "trainer.pt")
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


def load_checkpoint(path: str | Path, *, engine) -> dict[str, Any]:
    """Restore the engine (weights, optimizer, schedule) and this rank's RNG; returns the trainer state."""
    dist: Dist = engine.dist
    path = Path(path)
    state = torch.load(path / "trainer.pt", weights_only=False)
    if state["world_size"] != dist.world_size:
        raise ValueError(
            f"{path} was written by {state['world_size']} ranks; resuming with {dist.world_size}"
        )
    engine.load_state(path)
    set_rng_state(torch.load(path / f"rng-rank{dist.rank}.pt", weights_only=False))
    return state
