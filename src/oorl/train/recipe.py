"""The OORL recipe: one OORL step = an on-policy batch + an off-policy IR batch (paper eq. 1).

    L_OORL = w_rl * L_OnP + w_gepo * L_GEPO

`OORLTrainer.step` reads top to bottom like the paper's algorithm (CleanRL-style `b_` batch and
`mb_` micro-batch names):

    1. rollout     sample G completions for each of this rank's share of the B translation prompts
    2. reward      judge every completion's code in the sandbox -> 0/1
    3. advantages  old and reference log-probs, KL-in-reward, the estimator (globally whitened)
    4. losses      PPO-clip over micro-batches (w_rl); GEPO or DPO on a batch of IR groups (w_gepo)
    5. update      `ppo_epochs` passes of `mini_batches` mini-batches over the rollout batch, each
                   mini-batch one optimizer step; the IR batch joins the first of them only, so it is
                   applied once per OORL step whatever the epochs (config.TrainConfig)

Every loss is normalised by a *global* count (tokens of the mini-batch, groups or pairs of the step,
over all ranks) and gradients are summed over ranks (oorl.train.engine), so micro-batching and the
number of ranks leave the update unchanged (docs/ALGORITHMS.md, "Loss aggregation").
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

from oorl.algos import (
    ADVANTAGE_ESTIMATORS,
    KL_ESTIMATORS,
    dpo_loss,
    dpo_pairs,
    gepo_backward_memory_light,
    gepo_loss,
    ppo_policy_loss,
    sequence_logprobs,
)
from oorl.config import TrainConfig
from oorl.rollout import RolloutBackend, RolloutBatch
from oorl.tasks.prompts import render_prompt
from oorl.tasks.translation import TranslationTask
from oorl.train.data import Cursor, IRSequence, fit_ir_groups, ir_prompt, ir_text
from oorl.train.dist import Dist
from oorl.train.engine import Engine, make_engine
from oorl.train.sequences import completion_logprobs, encode_pairs, select

log = logging.getLogger("oorl.train")


class RewardLike(Protocol):
    reward: float | None
    format_ok: bool
    compiled: bool


RewardFn = Callable[[list[TranslationTask], list[str]], Sequence[RewardLike]]
"""(tasks, completions) -> one result per completion; the default judges them in the sandbox."""


@dataclass
class Experience:
    """One rank's on-policy batch, everything the loss needs (N = B_rank * G rows)."""

    rollout: RolloutBatch
    tasks: list[TranslationTask]  # N, the task of each sample
    rewards: Tensor  # (N,)
    old_logp: Tensor  # (N, C) under the rollout policy
    ref_logp: Tensor  # (N, C) under the reference
    advantages: Tensor  # (N, C)
    results: list[Any] = field(default_factory=list)


@dataclass
class IRBatch:
    """One rank's share of the IR groups of a step."""

    batch: RolloutBatch  # prompt + IR completion per sequence
    winner: Tensor  # (S,) bool
    group: Tensor  # (S,) long, the dataset index of the group
    ref_logps: Tensor  # (S,) reference log-probs


def without_sandbox_errors(
    results: Sequence, rollout: RolloutBatch, group_size: int
) -> tuple[Tensor, RolloutBatch]:
    """(N,) rewards, and the rollout with samples that hit a *sandbox* error masked out.

    Such a sample has no reward (infrastructure failure is never a program failure, so never a 0):
    its tokens get no gradient, and it stands in its group with the mean reward of the others so
    that group baselines are not moved by it.
    """
    raw = [r.reward for r in results]
    valid = torch.tensor([x is not None for x in raw])  # (N,)
    rewards = torch.tensor([0.0 if x is None else float(x) for x in raw])
    if bool(valid.all()):
        return rewards, rollout
    groups, ok = rewards.view(-1, group_size), valid.view(-1, group_size).float()
    fill = (groups * ok).sum(-1, keepdim=True) / ok.sum(-1, keepdim=True).clamp(min=1)
    rewards = torch.where(valid, rewards, fill.expand_as(groups).reshape(-1))
    mask = rollout.completion_mask & valid[:, None]
    return rewards, RolloutBatch(
        rollout.prompt_ids, rollout.prompt_mask, rollout.completion_ids, mask, rollout.texts
    )


def derived_steps(cfg: TrainConfig, num_tasks: int, num_groups: int) -> int:
    """OORL steps of the run: `steps` when set, else `epochs` passes over the RL tasks (over the IR
    groups when on-policy training is off), `prompts_per_step` (`groups_per_step`) per step over
    all ranks together; an incomplete last batch of an epoch is left out."""
    if cfg.steps is not None:
        return cfg.steps
    if cfg.onpolicy.enabled:
        per_epoch, what = num_tasks // cfg.rollout.prompts_per_step, f"{num_tasks} tasks"
    else:
        per_epoch, what = num_groups // cfg.preference.groups_per_step, f"{num_groups} IR groups"
    if per_epoch < 1:
        raise ValueError(f"{what} make no full step of the configured batch; set steps or a smaller batch")
    return cfg.epochs * per_epoch


class OORLTrainer:
    """Owns the engine (policy, optimizer, reference) and the samplers; `step()` is one OORL step."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        model,
        tokenizer,
        backend: RolloutBackend | Callable[[Engine], RolloutBackend],
        tasks: list[TranslationTask],
        ir_groups: list | None,
        reward_fn: RewardFn,
        dist: Dist | None = None,
    ):
        self.cfg, self.tokenizer, self.tasks, self.reward_fn = cfg, tokenizer, tasks, reward_fn
        self.dist = dist or Dist()
        cfg.world_batch_check(self.dist.world_size)
        self.ir_groups = ir_groups or []
        self.ir_usable: list[tuple[int, list[IRSequence]]] = []
        if cfg.preference.kind != "none":
            p = cfg.preference
            self.ir_usable, dropped = fit_ir_groups(
                self.ir_groups,
                tokenizer,
                cfg.data.max_ir_tokens,
                max_winners=p.max_winners,
                max_losers=p.max_losers,
                compact=cfg.data.ir_compact,
            )
            if self.dist.is_main and any(dropped.values()):
                log.warning("IR groups left out: %s", dropped)
            if not self.ir_usable:
                raise ValueError(
                    f"preference.kind needs IR groups with >= 1 winner and >= 1 loser within "
                    f"data.max_ir_tokens={cfg.data.max_ir_tokens}; none found ({dropped})"
                )
        self.total_steps = derived_steps(cfg, len(tasks), len(self.ir_usable))
        updates_per_step = cfg.onpolicy.ppo_epochs * cfg.onpolicy.mini_batches if cfg.onpolicy.enabled else 1
        self.engine = make_engine(cfg, model, self.dist, self.total_steps * updates_per_step)
        self.model, self.reference = self.engine.model, self.engine.reference
        self.backend = (
            backend(self.engine) if callable(backend) and not hasattr(backend, "generate") else backend
        )
        self.global_step = 0
        self.task_cursor = Cursor(len(tasks), cfg.seed) if cfg.onpolicy.enabled else None
        self.ir_cursor = Cursor(len(self.ir_usable), cfg.seed + 1) if self.ir_usable else None
        self.ir_ref_cache: dict[int, Tensor] = {}  # group index -> (S_g,) reference log-probs
        self.prompts: dict[str, str] = {}  # task id -> rendered prompt

    # --- data ----------------------------------------------------------------------------------

    def _prompt(self, task: TranslationTask) -> str:
        if task.id not in self.prompts:
            self.prompts[task.id] = render_prompt(task, self.tokenizer)
        return self.prompts[task.id]

    def data_state(self) -> dict:
        return {
            "tasks": self.task_cursor.state_dict() if self.task_cursor else None,
            "ir": self.ir_cursor.state_dict() if self.ir_cursor else None,
        }

    def load_data_state(self, state: dict) -> None:
        if self.task_cursor and state.get("tasks"):
            self.task_cursor.load_state_dict(state["tasks"])
        if self.ir_cursor and state.get("ir"):
            self.ir_cursor.load_state_dict(state["ir"])

    # --- the step ------------------------------------------------------------------------------

    def step(self) -> dict[str, float]:
        """One OORL step; returns global metrics of the step."""
        cfg = self.cfg
        t_start = time.perf_counter()
        metrics: dict[str, float] = {}
        exp = None
        if cfg.onpolicy.enabled:
            # 1-3. rollout, reward, advantages on this rank's share of the B prompts
            b_task_ids = self.dist.shard(self.task_cursor.take(cfg.rollout.prompts_per_step))
            exp, timing = self.collect([self.tasks[i] for i in b_task_ids])
            metrics.update(timing)
            metrics.update(self.reward_metrics(exp))
        t_train = time.perf_counter()
        ir = self.ir_batch() if cfg.preference.kind != "none" else None
        metrics.update(self.update(exp, ir))  # 4-5. losses and optimizer steps
        # training = the old / reference log-prob forwards + the IR batch + the loss passes and steps
        metrics["time_train"] = time.perf_counter() - t_train + metrics.get("time_logprobs", 0.0)
        metrics["time_step"] = time.perf_counter() - t_start
        if exp is not None:
            n_tokens = self.dist.sum_named({"n": exp.rollout.num_tokens})["n"]
            metrics["tokens_per_s"] = n_tokens / metrics["time_step"]
        if self.engine.device.type == "cuda":  # this rank's peak since the run started
            metrics["gpu_peak_gib"] = torch.cuda.max_memory_allocated(self.engine.device) / 2**30
        return metrics

    def collect(self, b_tasks: list[TranslationTask]) -> tuple[Experience, dict[str, float]]:
        """Rollout -> reward -> advantages, for this rank's prompts."""
        cfg, G = self.cfg, self.cfg.rollout.group_size
        t0 = time.perf_counter()
        with self.engine.autocast():
            rollout = self.backend.generate(
                [self._prompt(t) for t in b_tasks],
                n=G,
                temperature=cfg.rollout.temperature,
                top_p=cfg.rollout.top_p,
                max_new_tokens=cfg.rollout.max_new_tokens,
            )  # N = B_rank * G rows, prompt-major
        t1 = time.perf_counter()
        tasks = [t for t in b_tasks for _ in range(G)]
        results = list(self.reward_fn(tasks, rollout.texts))
        b_rewards, rollout = without_sandbox_errors(results, rollout, G)  # (N,)
        t2 = time.perf_counter()

        with torch.no_grad():
            b_old_logp = self.token_logps(self.model, rollout)  # (N, C)
            with self.reference.module() as ref:
                b_ref_logp = self.token_logps(ref, rollout)  # (N, C)
        mask = rollout.completion_mask
        # REINFORCE++: the KL penalty is part of the per-token reward (detached), then whitening
        # over every token of the global batch (all_reduce makes the statistics global).
        b_kl = KL_ESTIMATORS[cfg.onpolicy.kl_estimator](b_old_logp, b_ref_logp) * mask
        b_adv = ADVANTAGE_ESTIMATORS[cfg.onpolicy.estimator](
            b_rewards,
            mask,
            group_size=G,
            kl=b_kl,
            kl_coef=cfg.onpolicy.kl_coef,
            all_reduce=self.dist.all_reduce,
        )
        exp = Experience(rollout, tasks, b_rewards, b_old_logp, b_ref_logp, b_adv, results)
        # time_logprobs (old + reference forwards) is training-side work, reported apart
        return exp, {
            "time_generate": t1 - t0,
            "time_sandbox": t2 - t1,
            "time_logprobs": time.perf_counter() - t2,
        }

    def update(self, exp: Experience | None, ir: IRBatch | None) -> dict[str, float]:
        """`ppo_epochs` x `mini_batches` optimizer steps over the rollout batch (one when on-policy
        training is off); the IR batch's gradient joins the first of them."""
        cfg = self.cfg
        passes = cfg.onpolicy.ppo_epochs if exp is not None else 1
        pieces = cfg.onpolicy.mini_batches if exp is not None else 1
        totals: dict[str, float] = {}
        metrics: dict[str, float] = {}
        norm = None
        for _ in range(passes):
            for b_rows in split_rows(exp.rewards.shape[0] if exp else 0, pieces):
                preference = None
                if ir is not None:  # first, so that its gradient can be measured apart
                    metrics.update(self.preference_backward(ir))
                    ir = None  # each IR batch is applied once
                    preference = self.engine.gradient() if cfg.log.grad_norms and exp is not None else None
                if exp is not None:
                    for k, v in self.onpolicy_backward(exp, b_rows).items():
                        totals[k] = totals.get(k, 0.0) + v
                if preference is not None:
                    metrics.update(self.split_grad_norms(preference, self.engine.gradient()))
                metrics["lr"] = self.engine.lr()
                norm = self.engine.step()
        if norm is not None:  # the last optimizer step's
            metrics["grad_norm"] = norm
        if totals:
            tokens = max(totals["tokens"], 1.0)
            metrics["policy_loss"] = totals["loss"] / (passes * pieces)  # mean over optimizer steps
            metrics["clip_frac"] = totals["clipped"] / tokens  # token-weighted over all of them
            metrics["approx_kl"] = totals["approx_kl"] / tokens
        return metrics

    def split_grad_norms(self, preference: Tensor, total: Tensor) -> dict[str, float]:
        """Norms of the preference and on-policy gradients of one optimizer step (already scaled
        by their weights) and their cosine: whether one dwarfs the other, or pulls against it."""
        onpolicy = total - preference
        stats = torch.stack([preference @ preference, onpolicy @ onpolicy, preference @ onpolicy]).double()
        if self.engine.gradient_sharded:
            stats = self.dist.all_reduce(stats)
        pp, oo, po = stats.tolist()
        return {
            "grad_norm_preference": pp**0.5,
            "grad_norm_onpolicy": oo**0.5,
            "grad_cosine": po / max((pp * oo) ** 0.5, 1e-30),
        }

    def onpolicy_backward(self, exp: Experience, rows: list[int] | None = None) -> dict[str, float]:
        """PPO-clip over micro-batches of `rows` (default: all); the normaliser is the mini-batch's
        global token (or sequence) count. Returns global sums: loss, clipped, approx_kl, tokens."""
        cfg, engine = self.cfg, self.engine
        rows = list(range(exp.rewards.shape[0])) if rows is None else rows
        b_mask = exp.rollout.completion_mask[rows]
        counts = self.dist.sum_named({"tokens": float(b_mask.sum()), "seqs": float(len(rows))})
        token_mean = cfg.onpolicy.aggregation == "token-mean"
        norm = {"num_tokens": counts["tokens"]} if token_mean else {"num_seqs": counts["seqs"]}
        sums = {"loss": 0.0, "clipped": 0.0, "approx_kl": 0.0, "tokens": 0.0}
        for mb_rows, live in self.micro_batches(rows):
            mb_batch = select(exp.rollout, mb_rows)
            C = mb_batch.completion_ids.shape[1]
            with engine.autocast():
                mb_logp = completion_logprobs(self.model, mb_batch, temperature=cfg.rollout.temperature)
            loss, m = ppo_policy_loss(
                mb_logp,
                exp.old_logp[mb_rows, :C].to(mb_logp.device),
                exp.advantages[mb_rows, :C].to(mb_logp.device),
                mb_batch.completion_mask.to(mb_logp.device),
                eps_low=cfg.onpolicy.clip_eps,
                eps_high=cfg.onpolicy.clip_eps,
                aggregation=cfg.onpolicy.aggregation,
                **norm,
            )
            engine.backward(cfg.onpolicy.weight * loss * live)
            n_tok = float(mb_batch.completion_mask.sum()) * live
            sums["loss"] += float(loss.detach()) * live
            sums["clipped"] += float(m["clip_frac"]) * n_tok
            sums["approx_kl"] += float(m["approx_kl"]) * n_tok
            sums["tokens"] += n_tok
        return self.dist.sum_named(sums)

    # --- micro-batches and log-probs -----------------------------------------------------------

    def micro_batches(self, rows: list[int], size: int | None = None) -> Iterator[tuple[list[int], float]]:
        """`(rows, live)` chunks of `size` (default onpolicy.micro_batch_size) rows.

        Under engines whose forward and backward are collectives (fsdp, deepspeed) every rank must
        run as many as the busiest rank: the extra chunks repeat one row with `live` 0, so they
        cost a forward but contribute nothing.
        """
        size = size or self.cfg.onpolicy.micro_batch_size
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        for chunk in chunks:
            yield chunk, 1.0
        if self.engine.collective:
            for _ in range(self.dist.max_int(len(chunks)) - len(chunks)):
                yield rows[:1] or [0], 0.0

    def token_logps(self, model, batch: RolloutBatch, rows: list[int] | None = None) -> Tensor:
        """(N, C) completion log-probs (no grad) at the rollout temperature, in micro-batches."""
        temperature = self.cfg.rollout.temperature
        rows = list(range(batch.completion_ids.shape[0])) if rows is None else rows
        out = torch.zeros(batch.completion_ids.shape, dtype=torch.float32)
        for mb_rows, live in self.micro_batches(rows):
            part = select(batch, mb_rows)
            with self.engine.autocast():
                logp = completion_logprobs(model, part, temperature=temperature)
            if live:
                out[mb_rows, : part.completion_ids.shape[1]] = logp.float().cpu()
        return out

    def seq_logps(self, model, batch: RolloutBatch, rows: list[int] | None = None) -> Tensor:
        """(len(rows),) summed (or length-normalised) completion log-probs, no grad, micro-batched."""
        length_normalize = self.cfg.preference.length_normalize
        rows = list(range(batch.completion_ids.shape[0])) if rows is None else rows
        parts = []
        for mb_rows, live in self.micro_batches(rows):
            part = select(batch, mb_rows)
            with self.engine.autocast():
                tok = completion_logprobs(model, part)
            if live:
                mask = part.completion_mask.to(tok.device)
                parts.append(sequence_logprobs(tok, mask, length_normalize=length_normalize).float().cpu())
        return torch.cat(parts) if parts else torch.zeros(0)

    def seq_logps_grad(self, batch: RolloutBatch) -> Tensor:
        """(S,) policy log-probs of every sequence of `batch`, with grad (one forward)."""
        with self.engine.autocast():
            tok = completion_logprobs(self.model, batch)
        mask = batch.completion_mask.to(tok.device)
        return sequence_logprobs(tok, mask, length_normalize=self.cfg.preference.length_normalize).float()

    # --- the off-policy IR batch ---------------------------------------------------------------

    def ir_batch(self) -> IRBatch:
        """This rank's share of `groups_per_step` IR groups, with reference log-probs from the cache.

        The reference is frozen and the dataset static, so pi_ref(y|x) of every IR is computed once
        (the first time its group is drawn) and reused for the rest of the run. A step may draw a
        group twice (across an epoch's end, or more groups per step than there are): its copies
        share one group id (GEPO weighs them as one group) and the reference scores one copy.
        """
        chosen = self.dist.shard(self.ir_cursor.take(self.cfg.preference.groups_per_step))
        seqs = [s for k in chosen for s in self.ir_usable[k][1]]
        batch = self._encode_ir(seqs)
        first_rows: dict[int, list[int]] = {}  # uncached group -> the rows of its first copy
        start = 0
        for k in chosen:
            index, group_seqs = self.ir_usable[k]
            if index not in self.ir_ref_cache and index not in first_rows:
                first_rows[index] = list(range(start, start + len(group_seqs)))
            start += len(group_seqs)
        todo = [i for rows in first_rows.values() for i in rows]
        with torch.no_grad(), self.reference.module() as ref:
            fresh = self.seq_logps(ref, batch, todo)  # every rank runs as many forwards
        by_row = dict(zip(todo, fresh, strict=True))
        for index, rows in first_rows.items():
            self.ir_ref_cache[index] = torch.stack([by_row[i] for i in rows])
        ref_logps = torch.cat([self.ir_ref_cache[self.ir_usable[k][0]] for k in chosen])
        return IRBatch(
            batch=batch,
            winner=torch.tensor([s.winner for s in seqs]),
            group=torch.tensor([s.group for s in seqs]),
            ref_logps=ref_logps,
        )

    def _encode_ir(self, seqs: list[IRSequence]) -> RolloutBatch:
        prompts = [ir_prompt(self.ir_groups[s.group], self.tokenizer) for s in seqs]
        return encode_pairs(self.tokenizer, prompts, [ir_text(s.ir) for s in seqs])

    def preference_backward(self, ir: IRBatch) -> dict[str, float]:
        """w_gepo * GEPO (or DPO on every winner x loser pair of each group), as a share of the
        step's global groups (pairs), so the summed rank gradients give the global mean."""
        p, engine = self.cfg.preference, self.engine
        options = {
            "beta": p.beta,
            "lam": p.lam,
            "variance": p.variance,
            "beta_in_variance": p.beta_in_variance,
        }
        if p.kind == "gepo":
            k_local = float(torch.unique(ir.group).numel())
            share = k_local / self.dist.sum_named({"k": k_local})["k"]
            if p.memory_light:
                rows = list(range(ir.winner.numel()))
                n_chunks = self.dist.max_int(-(-len(rows) // self.cfg.onpolicy.micro_batch_size))

                def seq_logps_fn(idx: Tensor) -> Tensor:
                    if idx.numel() == 0:  # a padding chunk (collective engines): a graph, no rows
                        return self.seq_logps_grad(select(ir.batch, [0]))[:0]
                    return self.seq_logps_grad(select(ir.batch, idx.tolist()))

                loss, m = gepo_backward_memory_light(
                    seq_logps_fn,
                    ir.ref_logps.to(self.engine.device),
                    ir.winner.to(self.engine.device),
                    ir.group.to(self.engine.device),
                    micro_batch_size=self.cfg.onpolicy.micro_batch_size,
                    loss_scale=p.weight * share,
                    backward=engine.backward,
                    min_micro_batches=n_chunks if engine.collective else 0,
                    **options,
                )
            else:
                logps = self.seq_logps_grad(ir.batch)
                dev = logps.device
                loss, m = gepo_loss(
                    logps, ir.ref_logps.to(dev), ir.winner.to(dev), ir.group.to(dev), **options
                )
                engine.backward(p.weight * share * loss)
            keys = ("margin", "accuracy", "winner_var")
        else:  # DPO ablation: every winner x loser pair of the same group
            logps = self.seq_logps_grad(ir.batch)
            w_idx, l_idx = dpo_pairs(ir.winner, ir.group)
            n_local = float(w_idx.numel())
            share = n_local / self.dist.sum_named({"n": n_local})["n"]
            ref = ir.ref_logps.to(logps.device)
            loss, m = dpo_loss(
                logps[w_idx],
                logps[l_idx],
                ref[w_idx],
                ref[l_idx],
                beta=p.beta,
                label_smoothing=p.label_smoothing,
            )
            engine.backward(p.weight * share * loss)
            keys = ("margin", "accuracy")
        k = p.kind
        stats = self.dist.sum_named(
            {"loss": float(loss.detach()) * share, **{x: float(m[x]) * share for x in keys}}
        )
        return {f"{k}_{x}" if x != "loss" else f"{k}_loss": v for x, v in stats.items()}

    # --- metrics -------------------------------------------------------------------------------

    def reward_metrics(self, exp: Experience) -> dict[str, float]:
        """Global reward, format and compile rates, per-target-language pass rate, KL, lengths."""
        mask = exp.rollout.completion_mask.float()
        local = {
            "reward": float(exp.rewards.sum()),
            "samples": float(len(exp.results)),
            "format_ok": sum(float(r.format_ok) for r in exp.results),
            "compiled": sum(float(r.compiled) for r in exp.results),
            "kl": float(((exp.old_logp - exp.ref_logp) * mask).sum()),
            "tokens": float(mask.sum()),
        }
        for lang in self.cfg.data.target_langs:
            mine = [r for r, t in zip(exp.results, exp.tasks, strict=True) if t.target_lang == lang]
            local[f"passed/{lang}"] = sum(float(r.reward or 0.0) for r in mine)
            local[f"count/{lang}"] = float(len(mine))
        s = self.dist.sum_named(local)
        n = s["samples"]
        out = {
            "reward": s["reward"] / n,
            "format_rate": s["format_ok"] / n,
            "compile_rate": s["compiled"] / n,
            "kl": s["kl"] / max(s["tokens"], 1.0),
            "response_tokens": s["tokens"] / n,
        }
        for lang in self.cfg.data.target_langs:
            if s[f"count/{lang}"]:
                out[f"pass_rate/{lang}"] = s[f"passed/{lang}"] / s[f"count/{lang}"]
        return out


def split_rows(n: int, pieces: int) -> list[list[int]]:
    """`pieces` contiguous, equal mini-batches of rows 0..n-1 (n = 0: one empty mini-batch)."""
    if n == 0:
        return [[]]
    size = n // pieces
    return [list(range(i * size, (i + 1) * size)) for i in range(pieces)]


class StopFlag:
    """SIGTERM / SIGINT ask for a clean stop: the current step finishes, a checkpoint is written."""

    def __init__(self):
        self.requested = False
        self._old = {}

    def _handler(self, signum, frame):
        self.requested = True

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._old[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)
