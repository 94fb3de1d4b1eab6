"""`oorl train`: setup -> train -> cleanup around `OORLTrainer` (torchtune's recipe shape).

Setup joins the ranks, resolves the model (a hub id, a path, or the tiny model built on the spot),
loads tasks and IR groups, opens the sandbox pool and builds the trainer, whose engine makes the
reference from the *starting* weights (so a resumed run keeps the same KL anchor). Train runs the
OORL steps with logging, periodic atomic checkpoints and a clean stop on SIGTERM / SIGINT.
`resume=True` continues from the newest checkpoint exactly: weights, optimizer, schedule, RNG
states and data positions. Cleanup closes the sinks, the sandbox and the process group.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from oorl.config import TrainConfig, save_config
from oorl.train.checkpoint import (
    export_model,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
    seed_everything,
)
from oorl.train.dist import Dist, init_distributed, shutdown
from oorl.train.logs import MetricsLogger, truncate_metrics


@dataclass
class RunResult:
    out: Path
    steps_done: int
    interrupted: bool
    wall_s: float
    final_model: Path | None


@dataclass
class Run:
    """Everything `train` needs, made by `setup` and released by `cleanup`."""

    cfg: TrainConfig
    dist: Dist
    trainer: Any
    tokenizer: Any
    logger: MetricsLogger
    out: Path
    t_start: float
    closers: list = field(default_factory=list)


def configure_threads(cfg: TrainConfig) -> None:
    """Set torch's intra-op threads deliberately: sandbox processes run beside training, and
    oversubscribed cores made a forward+backward ~10x slower here (docs/PLATFORM.md)."""
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)


def sandbox_workers(cfg: TrainConfig, local_world_size: int) -> int:
    """Sandbox workers of one rank: as configured, else this machine's cores shared among the
    ranks on it (each rank starting one worker per core oversubscribed the node)."""
    if cfg.sandbox_workers is not None:
        return cfg.sandbox_workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // max(1, local_world_size))


def bundled_texts(cfg: TrainConfig) -> list[str]:
    """What the tiny tokenizer is trained on: the *training* problems' solutions and prompts (the
    held-out split stays unseen, merges included) and the IR groups."""
    from oorl.tasks.prompts import translation_prompt
    from oorl.train.data import build_tasks, ir_sequences

    train, _ = build_tasks(cfg.data)
    texts = list({code for t in train for code in t.problem.solutions.values()})
    texts += [translation_prompt(t) for t in train[:2000]]
    for i, g in enumerate(training_ir_groups(cfg)[:500]):
        seqs = ir_sequences(g, i, max_winners=None, max_losers=None, compact=cfg.data.ir_compact)
        texts += [g.prompt, *(s.ir for s in seqs)]
    return texts


def training_ir_groups(cfg: TrainConfig) -> list:
    """The configured IR groups less the held-out ones (split by source program like the
    problems); [] when there are none."""
    from oorl.train.data import load_ir_groups, split_ir_groups

    groups = load_ir_groups(cfg.data.ir_groups) or []
    return split_ir_groups(groups, cfg.data.heldout_fraction, cfg.data.split_seed)[0]


def resolve_model_path(cfg: TrainConfig, dist: Dist) -> str:
    """A loadable model path: the configured one, or for 'tiny' the model built into <out>/tiny-model."""
    if cfg.model.name_or_path != "tiny":
        return cfg.model.name_or_path
    path = Path(cfg.out) / "tiny-model"
    if dist.is_main and not (path / "config.json").exists():
        from oorl.train.model import build_tiny_model

        build_tiny_model(path, bundled_texts(cfg), cfg.tiny, seed=cfg.seed)
    dist.barrier()
    return str(path)


def default_reward_fn(sandbox):
    from oorl.rewards import score_completions

    def reward_fn(tasks, completions):
        return score_completions(sandbox, tasks, completions)

    return reward_fn


def run_training(
    cfg: TrainConfig,
    *,
    model_path: str | None = None,
    resume: bool = False,
    reward_fn=None,
    progress_label: str = "OORL",
) -> RunResult:
    """Run OORL training as configured; returns where it wrote and how far it got."""
    run = setup(cfg, model_path=model_path, resume=resume, reward_fn=reward_fn)
    try:
        return train(run, progress_label)
    finally:
        cleanup(run)


def setup(cfg: TrainConfig, *, model_path: str | None, resume: bool, reward_fn) -> Run:
    """Ranks, model, data, sandbox, trainer; restores the newest checkpoint when resuming.
    Whatever was opened is closed again if a later part fails."""
    closers: list = []
    try:
        return _setup(cfg, model_path, resume, reward_fn, closers)
    except BaseException:
        for close in closers:
            close()
        raise


def _setup(cfg: TrainConfig, model_path: str | None, resume: bool, reward_fn, closers: list) -> Run:
    from oorl.rollout import make_backend
    from oorl.train.data import (
        build_tasks,
        fitting_prompts,
        load_ir_groups,
        sft_rl_split,
        split_ir_groups,
        warn_long_answers,
    )
    from oorl.train.model import load_model
    from oorl.train.recipe import OORLTrainer

    t_start = time.perf_counter()
    configure_threads(cfg)
    dist = init_distributed(force=cfg.train.engine != "ddp")  # FSDP and DeepSpeed need a group, even of one
    closers.append(lambda: shutdown(dist))
    if dist.device.type == "cuda" and cfg.train.check_memory:
        from oorl.train.plan import check_fits

        # before any weight is loaded: a run that cannot fit stops here, saying what would
        gib = torch.cuda.get_device_properties(dist.device).total_memory / 2**30
        check_fits(cfg, dist.world_size, gib)
    out = Path(cfg.out)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        save_config(cfg, out / "config.yaml")
    seed_everything(cfg.seed)
    model, tokenizer = load_model(cfg.model, model_path or resolve_model_path(cfg, dist))
    train_tasks, _ = build_tasks(cfg.data)
    _, rl_tasks = sft_rl_split(train_tasks, cfg.data.sft_share, cfg.data.split_seed)
    rl_tasks = fitting_prompts(rl_tasks, tokenizer, cfg.data.max_prompt_tokens)
    if cfg.onpolicy.enabled and not rl_tasks:
        raise ValueError(
            f"no training task has a prompt of at most data.max_prompt_tokens={cfg.data.max_prompt_tokens}"
        )
    if cfg.onpolicy.enabled and dist.is_main:
        warn_long_answers(rl_tasks, tokenizer, cfg.rollout.max_new_tokens, "rollout.max_new_tokens")
    ir_groups = load_ir_groups(cfg.data.ir_groups) if cfg.preference.kind != "none" else None
    if cfg.preference.kind != "none" and ir_groups is None:
        if dist.is_main:
            build_bundled_ir_groups(out)
        dist.barrier()
        ir_groups = load_ir_groups(str(out / "ir_groups.jsonl"))
    if ir_groups is not None:  # held-out groups measure GEPO (oorl.eval.ir), never train it
        ir_groups = split_ir_groups(ir_groups, cfg.data.heldout_fraction, cfg.data.split_seed)[0]
    if reward_fn is None:
        from oorl.sandbox import open_sandbox

        local = None if cfg.sandbox.urls else sandbox_workers(cfg, dist.local_world_size)
        sandbox = open_sandbox(cfg.sandbox, workers=local)
        closers.insert(0, sandbox.close)
        reward_fn = default_reward_fn(sandbox)
    r = cfg.rollout
    trainer = OORLTrainer(
        cfg,
        model=model,
        tokenizer=tokenizer,
        backend=lambda engine: make_backend(
            r.backend,
            engine.module,
            tokenizer,
            generation_batch_size=r.generation_batch_size,
            synced_ranks=engine.sharded_params,
            gpu_memory_utilization=r.gpu_memory_utilization,
        ),
        tasks=rl_tasks,
        ir_groups=ir_groups,
        reward_fn=reward_fn,
        dist=dist,
    )
    # Sampling differs per rank: each rank draws its own completions.
    seed_everything(cfg.seed * 1000 + dist.rank)
    ckpt = latest_checkpoint(out / "checkpoints") if resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, engine=trainer.engine)
        trainer.global_step = state["step"]
        trainer.load_data_state(state["data"])
        if dist.is_main:
            truncate_metrics(out / "metrics.jsonl", after_step=trainer.global_step)
    elif dist.is_main and (out / "metrics.jsonl").exists():
        (out / "metrics.jsonl").unlink()
    logger = MetricsLogger(
        out,
        tensorboard=cfg.log.tensorboard,
        wandb=cfg.log.wandb,
        wandb_project=cfg.log.wandb_project,
        config=cfg.model_dump(mode="json"),
        enabled=dist.is_main,
    )
    closers.insert(0, logger.close)
    return Run(cfg, dist, trainer, tokenizer, logger, out, t_start, closers)


def train(run: Run, progress_label: str = "OORL") -> RunResult:
    """The OORL steps, with logging, checkpoints and a clean stop; then the final export."""
    from oorl.train.recipe import StopFlag

    cfg, dist, trainer = run.cfg, run.dist, run.trainer
    total = trainer.total_steps

    def checkpoint() -> None:
        save_checkpoint(
            run.out / "checkpoints",
            step=trainer.global_step,
            engine=trainer.engine,
            tokenizer=run.tokenizer,
            data_state=trainer.data_state(),
            keep_last=cfg.checkpoint.keep_last,
        )

    interrupted = False
    with StopFlag() as stop, _progress(cfg, dist, progress_label) as bar:
        task = bar.add_task(progress_label, total=total, completed=trainer.global_step) if bar else None
        while trainer.global_step < total:
            metrics = trainer.step()
            trainer.global_step += 1
            run.logger.log(trainer.global_step, metrics)
            if bar is not None:
                bar.update(
                    task, advance=1, description=f"{progress_label} reward={metrics.get('reward', 0):.2f}"
                )
            # every rank must agree to stop, or a lone rank would hang in the next all-reduce
            if dist.sum_named({"stop": float(stop.requested)})["stop"] > 0:
                checkpoint()
                interrupted = True
                break
            if trainer.global_step % cfg.checkpoint.every == 0 or trainer.global_step == total:
                checkpoint()
    final = None
    if not interrupted:
        final = run.out / "final-model"
        export_model(trainer.engine, run.tokenizer, final, cfg.checkpoint.export_dtype)
    dist.barrier()
    wall = time.perf_counter() - run.t_start
    return RunResult(run.out, trainer.global_step, interrupted, wall, final if dist.is_main else None)


def cleanup(run: Run) -> None:
    for close in run.closers:
        close()


def build_bundled_ir_groups(out: Path):
    """The bundled IR groups are missing (a source checkout without data): build them from the
    bundled C sources into `<out>/ir_groups.jsonl` (clang-14 and LLVM tools, in the sandbox)."""
    import itertools

    from oorl.ir import sources
    from oorl.ir.build import build_all
    from oorl.ir.config import IRBuildConfig
    from oorl.sandbox import Sandbox
    from oorl.train.data import bundled_path, load_ir_groups

    target = out / "ir_groups.jsonl"
    c_files = sorted(bundled_path("ir", "functions").glob("*.c"))
    problems = bundled_path("ir", "problems.jsonl")
    iters = [sources.from_c_files(c_files)] if c_files else []
    if problems.exists():
        iters.append(sources.from_problems(problems))
    if not iters:
        raise FileNotFoundError("no bundled IR groups and no bundled C sources to build them from")
    items = list(itertools.chain(*iters))
    with Sandbox() as sb:
        build_all(items, target, IRBuildConfig(), sb, total=len(items))
    return load_ir_groups(str(target))


class _NoBar:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(cfg: TrainConfig, dist: Dist, label: str):
    if not (cfg.log.progress and dist.is_main):
        return _NoBar()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
