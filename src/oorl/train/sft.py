"""`oorl sft`: supervised warm-up on parallel translation pairs, in the RL prompt format.

The loss is the mean negative log-likelihood of the answer tokens only (the fenced reference
translation and the end-of-turn token); prompt tokens are context, not targets. Using the exact
prompt the RL step renders means RL starts from a policy that already follows the answer format.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import torch

from oorl.config import TrainConfig
from oorl.train.checkpoint import seed_everything
from oorl.train.data import Cursor, build_tasks, sft_pairs, sft_rl_split
from oorl.train.dist import rank_device
from oorl.train.engine import make_scheduler
from oorl.train.model import DTYPES
from oorl.train.sequences import completion_logprobs, encode_pairs


def humaneval_x_pairs(directory: str, cfg: TrainConfig, tokenizer) -> list[tuple[str, str]]:
    """HumanEval-X translation pairs for the configured language pairs (training is allowed: Apache-2.0)."""
    from oorl.tasks.humaneval_x import load_humaneval_x
    from oorl.tasks.translation import ensure_trainable, make_tasks
    from oorl.train.data import language_pairs

    problems = load_humaneval_x(path=directory or None)
    ensure_trainable(problems)
    return sft_pairs(make_tasks(problems, language_pairs(cfg.data)), tokenizer)


def sft_loss(model, tokenizer, pairs: list[tuple[str, str]]) -> torch.Tensor:
    """Token-mean NLL of the answers given the prompts."""
    batch = encode_pairs(tokenizer, [p for p, _ in pairs], [a for _, a in pairs])
    logp = completion_logprobs(model, batch)  # (N, C)
    mask = batch.completion_mask.to(logp.device)
    return -(logp * mask).sum() / mask.sum()


def run_sft(cfg: TrainConfig, *, model_path: str, out: str | Path, log_dir: str | Path | None = None) -> Path:
    """Fine-tune `model_path` for `cfg.sft.steps` steps; save the result (HF format) to `out` and the
    loss curve to `<log_dir or out>/sft_metrics.jsonl`."""
    from oorl.train.logs import MetricsLogger
    from oorl.train.model import load_model

    seed_everything(cfg.seed)
    model, tokenizer = load_model(cfg.model, model_path)
    device = rank_device(0)  # one process: the first GPU when there is one
    model.to(device)
    compute = DTYPES[cfg.model.dtype]
    autocast = (
        torch.autocast(device.type, dtype=compute)
        if compute != DTYPES[cfg.model.master_dtype]
        else contextlib.nullcontext()
    )
    train_tasks, _ = build_tasks(cfg.data)
    sft_tasks, _ = sft_rl_split(train_tasks, cfg.data.sft_share, cfg.data.split_seed)
    pairs = sft_pairs(sft_tasks, tokenizer)
    if cfg.data.humaneval_x:
        pairs += humaneval_x_pairs(cfg.data.humaneval_x, cfg, tokenizer)
    lengths = [len(tokenizer(p + a, add_special_tokens=False)["input_ids"]) for p, a in pairs]
    pairs = [pair for pair, n in zip(pairs, lengths, strict=True) if n + 1 <= cfg.sft.max_seq_len]
    if not pairs:
        raise ValueError(f"no SFT pairs fit sft.max_seq_len={cfg.sft.max_seq_len}")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.sft.lr, weight_decay=cfg.optim.weight_decay)
    scheduler = make_scheduler(optimizer, "cosine", max(cfg.sft.steps, 1), cfg.sft.warmup_ratio)
    cursor = Cursor(len(pairs), cfg.seed + 7)
    logger = MetricsLogger(log_dir or out, tensorboard=False, filename="sft_metrics.jsonl")

    from rich.progress import Progress

    t0 = time.perf_counter()
    with Progress(disable=not cfg.log.progress) as bar:
        task = bar.add_task("SFT", total=cfg.sft.steps)
        for step in range(1, cfg.sft.steps + 1):
            with autocast:
                loss = sft_loss(model, tokenizer, [pairs[i] for i in cursor.take(cfg.sft.batch_size)])
            loss.backward()
            if cfg.optim.max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, cfg.optim.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            logger.log(
                step,
                {
                    "sft_loss": float(loss.detach()),
                    "lr": scheduler.get_last_lr()[0],
                    "elapsed_s": time.perf_counter() - t0,
                },
            )
            bar.update(task, advance=1, description=f"SFT loss={float(loss.detach()):.3f}")
    logger.close()
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
