"""The OORL recipe: one optimizer step = an on-policy batch + an off-policy IR batch (paper eq. 1).

    L_OORL = w_rl * L_OnP + w_gepo * L_GEPO

`OORLTrainer.step` reads top to bottom like the paper's algorithm (CleanRL-style `b_` batch and
`mb_` micro-batch names):

    1. rollout   sample G completions for each of B translation prompts
    2. execute   judge every completion's code in the sandbox -> 0/1 reward
    3. advantage old and reference log-probs, KL-in-reward, REINFORCE++ (globally whitened)
    4. loss      PPO-clip over micro-batches (w_rl), GEPO or DPO on a batch of IR groups (w_gepo)
    5. step      gradients summed over ranks, clipped; AdamW; cosine schedule
    6. log

Every loss is normalised by a *global* count (tokens, groups or pairs of the whole step, over all
ranks) and gradients are summed over ranks, so micro-batching and the number of ranks leave the
update unchanged (ALGORITHMS.md, "Loss aggregation").
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

from oorl.algos import (
    ADVANTAGE_ESTIMATORS,
    KL_ESTIMATORS,
    dpo_loss,
    gepo_backward_memory_light,
    gepo_loss,
    ppo_policy_loss,
    sequence_logprobs,
)
from oorl.config import TrainConfig
from oorl.rollout import RolloutBackend, RolloutBatch
from oorl.tasks.prompts import render_prompt
from oorl.tasks.translation import TranslationTask
from oorl.train.data import Cursor, IRSequence, ir_prompt, ir_sequences
from oorl.train.dist import Dist
from oorl.train.model import Reference
from oorl.train.sequences import completion_logprobs, encode_pairs, select


class RewardLike(Protocol):
    reward: float
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
    ref_logps: Tensor  # (S,) cached reference log-probs


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


def make_scheduler(optimizer: torch.optim.Optimizer, kind: str, total: int, warmup_ratio: float):
    """Linear warm-up over ceil(ratio * total) steps, then cosine / linear decay to 0, or constant."""
    from transformers import get_scheduler

    name = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}[kind]
    return get_scheduler(
        name, optimizer, num_warmup_steps=math.ceil(warmup_ratio * total), num_training_steps=total
    )


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    o = cfg.optim
    return torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)


class OORLTrainer:
    """Owns the policy, reference, optimizer and samplers; `step()` is one OORL optimizer step."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        model,
        tokenizer,
        reference: Reference,
        backend: RolloutBackend,
        tasks: list[TranslationTask],
        ir_groups: list | None,
        reward_fn: RewardFn,
        dist: Dist | None = None,
    ):
        self.cfg, self.model, self.tokenizer, self.reference = cfg, model, tokenizer, reference
        self.backend, self.tasks, self.reward_fn = backend, tasks, reward_fn
        self.dist = dist or Dist()
        cfg.world_batch_check(self.dist.world_size)
        self.optimizer = make_optimizer(model, cfg)
        self.scheduler = make_scheduler(
            self.optimizer, cfg.optim.schedule, cfg.steps * cfg.onpolicy.ppo_epochs, cfg.optim.warmup_ratio
        )
        self.global_step = 0
        self.task_cursor = Cursor(len(tasks), cfg.seed) if cfg.onpolicy.enabled else None
        self.prompts = {}  # task id -> rendered prompt
        self.ir_groups = ir_groups or []
        self.ir_cursor = None
        self.ir_ref_cache: dict[int, Tensor] = {}  # group index -> (S_g,) reference log-probs
        if cfg.preference.kind != "none":
            usable = [i for i, g in enumerate(self.ir_groups) if self._group_sequences(g, i)]
            if not usable:
                raise ValueError(
                    "preference.kind needs IR groups with >= 1 winner and >= 1 loser; none found"
                )
            self.ir_usable = usable
            self.ir_cursor = Cursor(len(usable), cfg.seed + 1)

    # --- data ----------------------------------------------------------------------------------

    def _prompt(self, task: TranslationTask) -> str:
        if task.id not in self.prompts:
            self.prompts[task.id] = render_prompt(task, self.tokenizer)
        return self.prompts[task.id]

    def _group_sequences(self, group, index: int) -> list[IRSequence]:
        p = self.cfg.preference
        return ir_sequences(group, index, max_winners=p.max_winners, max_losers=p.max_losers)

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
        """One OORL optimizer step (per PPO epoch); returns global metrics of the step."""
        cfg, dist = self.cfg, self.dist
        t_start = time.perf_counter()
        metrics: dict[str, float] = {}
        exp = None
        if cfg.onpolicy.enabled:
            # 1-2. rollout and execute: this rank's share of the B prompts, G samples each
            b_task_ids = dist.shard(self.task_cursor.take(cfg.rollout.prompts_per_step))
            exp, timing = self.collect([self.tasks[i] for i in b_task_ids])
            metrics.update(timing)
            metrics.update(self.reward_metrics(exp))
        t_train = time.perf_counter()
        ir = self.ir_batch() if cfg.preference.kind != "none" else None
        for _ in range(cfg.onpolicy.ppo_epochs):
            metrics.update(self.learn(exp, ir))
        # training = the old / reference log-prob forwards + the IR batch + the loss passes and step
        metrics["time_train"] = time.perf_counter() - t_train + metrics.get("time_logprobs", 0.0)
        metrics["time_step"] = time.perf_counter() - t_start
        if exp is not None:
            n_tokens = float(dist.all_reduce(torch.tensor(float(exp.rollout.num_tokens))))
            metrics["tokens_per_s"] = n_tokens / metrics["time_step"]
        return metrics

    def collect(self, b_tasks: list[TranslationTask]) -> tuple[Experience, dict[str, float]]:
        """Rollout -> execute -> reward -> advantage, for this rank's prompts."""
        cfg, G = self.cfg, self.cfg.rollout.group_size
        t0 = time.perf_counter()
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
            b_old_logp = self._logprobs(self.model, rollout)  # (N, C)
            with self.reference.module() as ref:
                b_ref_logp = self._logprobs(ref, rollout)  # (N, C)
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

    def _logprobs(self, model, batch: RolloutBatch) -> Tensor:
        """(N, C) completion log-probs at the rollout temperature, computed in micro-batches."""
        mb, temperature = self.cfg.onpolicy.micro_batch_size, self.cfg.rollout.temperature
        out = torch.zeros(batch.completion_ids.shape, dtype=torch.float32)
        for start in range(0, batch.completion_ids.shape[0], mb):
            rows = list(range(start, min(start + mb, batch.completion_ids.shape[0])))
            part = select(batch, rows)
            logp = completion_logprobs(model, part, temperature=temperature)
            out[rows, : part.completion_ids.shape[1]] = logp.float().cpu()
        return out

    def learn(self, exp: Experience | None, ir: IRBatch | None) -> dict[str, float]:
        """Accumulate w_rl * grad L_OnP and w_gepo * grad L_GEPO, sum over ranks, clip, step."""
        cfg, dist = self.cfg, self.dist
        metrics: dict[str, float] = {}
        if exp is not None:
            metrics.update(self.onpolicy_backward(exp))
        if ir is not None:
            metrics.update(self.preference_backward(ir))
        params = [p for p in self.model.parameters() if p.requires_grad]
        dist.sum_gradients(params)
        if cfg.optim.max_grad_norm is not None:
            metrics["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(params, cfg.optim.max_grad_norm))
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return metrics

    def onpolicy_backward(self, exp: Experience) -> dict[str, float]:
        """PPO-clip over micro-batches; the token-mean normaliser is the step's global token count."""
        cfg, dist = self.cfg, self.dist
        b_mask = exp.rollout.completion_mask
        counts = dist.all_reduce(torch.tensor([float(b_mask.sum()), float(b_mask.shape[0])]))
        norm = (
            {"num_tokens": counts[0]} if cfg.onpolicy.aggregation == "token-mean" else {"num_seqs": counts[1]}
        )
        sums = torch.zeros(4)  # loss, clip tokens, approx-kl tokens, tokens
        N, mb = b_mask.shape[0], cfg.onpolicy.micro_batch_size
        for start in range(0, N, mb):
            rows = list(range(start, min(start + mb, N)))
            mb_batch = select(exp.rollout, rows)
            C = mb_batch.completion_ids.shape[1]
            mb_logp = completion_logprobs(self.model, mb_batch, temperature=cfg.rollout.temperature)
            loss, m = ppo_policy_loss(
                mb_logp,
                exp.old_logp[rows, :C],
                exp.advantages[rows, :C],
                mb_batch.completion_mask,
                eps_low=cfg.onpolicy.clip_eps,
                eps_high=cfg.onpolicy.clip_eps,
                aggregation=cfg.onpolicy.aggregation,
                **norm,
            )
            (cfg.onpolicy.weight * loss).backward()
            n_tok = float(mb_batch.completion_mask.sum())
            sums += torch.tensor(
                [float(loss.detach()), float(m["clip_frac"]) * n_tok, float(m["approx_kl"]) * n_tok, n_tok]
            )
        sums = dist.all_reduce(sums)
        return {
            "policy_loss": float(sums[0]),
            "clip_frac": float(sums[1] / sums[3].clamp(min=1)),
            "approx_kl": float(sums[2] / sums[3].clamp(min=1)),
        }

    # --- the off-policy IR batch ---------------------------------------------------------------

    def ir_batch(self) -> IRBatch:
        """This rank's share of `groups_per_step` IR groups, with reference log-probs from the cache.

        The reference is frozen and the dataset static, so pi_ref(y|x) of every IR is computed once
        (the first time its group is drawn) and reused for the rest of the run.
        """
        p = self.cfg.preference
        chosen = self.dist.shard(self.ir_cursor.take(p.groups_per_step))
        seqs: list[IRSequence] = []
        refs = []
        for k in chosen:
            index = self.ir_usable[k]
            group_seqs = self._group_sequences(self.ir_groups[index], index)
            batch = self._encode_ir(group_seqs)
            if index not in self.ir_ref_cache:
                with torch.no_grad(), self.reference.module() as ref:
                    self.ir_ref_cache[index] = self._seq_logps(ref, batch)
            seqs += group_seqs
            refs.append(self.ir_ref_cache[index])
        return IRBatch(
            batch=self._encode_ir(seqs),
            winner=torch.tensor([s.winner for s in seqs]),
            group=torch.tensor([s.group for s in seqs]),
            ref_logps=torch.cat(refs),
        )

    def _encode_ir(self, seqs: list[IRSequence]) -> RolloutBatch:
        prompts = [ir_prompt(self.ir_groups[s.group], self.tokenizer) for s in seqs]
        completions = [f"```llvm\n{s.ir.rstrip()}\n```" for s in seqs]
        return encode_pairs(
            self.tokenizer, prompts, completions, max_completion_tokens=self.cfg.data.max_ir_tokens
        )

    def _seq_logps(self, model, batch: RolloutBatch) -> Tensor:
        """(S,) summed (or length-normalised) completion log-probs, in micro-batches."""
        mb = self.cfg.onpolicy.micro_batch_size
        parts = []
        for start in range(0, batch.completion_ids.shape[0], mb):
            part = select(batch, list(range(start, min(start + mb, batch.completion_ids.shape[0]))))
            tok = completion_logprobs(model, part)
            parts.append(
                sequence_logprobs(
                    tok,
                    part.completion_mask.to(tok.device),
                    length_normalize=self.cfg.preference.length_normalize,
                )
            )
        return torch.cat(parts).float().cpu()

    def preference_backward(self, ir: IRBatch) -> dict[str, float]:
        """w_gepo * GEPO (or DPO on every winner x loser pair of each group), as a share of the
        step's global groups (pairs), so the summed rank gradients give the global mean."""
        p, dist = self.cfg.preference, self.dist
        options = {
            "beta": p.beta,
            "lam": p.lam,
            "variance": p.variance,
            "beta_in_variance": p.beta_in_variance,
        }
        if p.kind == "gepo":
            k_local = float(torch.unique(ir.group).numel())
            share = k_local / float(dist.all_reduce(torch.tensor(k_local)))
            if p.memory_light:

                def seq_logps_fn(idx: Tensor) -> Tensor:
                    return self._seq_logps_grad(select(ir.batch, idx.tolist()))

                loss, m = gepo_backward_memory_light(
                    seq_logps_fn,
                    ir.ref_logps,
                    ir.winner,
                    ir.group,
                    micro_batch_size=self.cfg.onpolicy.micro_batch_size,
                    loss_scale=p.weight * share,
                    **options,
                )
            else:
                logps = self._seq_logps_grad(ir.batch)
                loss, m = gepo_loss(logps, ir.ref_logps, ir.winner, ir.group, **options)
                (p.weight * share * loss).backward()
            keys = ("margin", "accuracy", "winner_var")
        else:  # DPO ablation: every winner x loser pair of the same group
            logps = self._seq_logps_grad(ir.batch)
            w_idx, l_idx = [], []
            for g in torch.unique(ir.group).tolist():
                in_g = ir.group == g
                wins = (in_g & ir.winner).nonzero().flatten().tolist()
                loss_ = (in_g & ~ir.winner).nonzero().flatten().tolist()
                w_idx += [w for w in wins for _ in loss_]
                l_idx += [l_ for _ in wins for l_ in loss_]
            n_local = float(len(w_idx))
            share = n_local / float(dist.all_reduce(torch.tensor(n_local)))
            loss, m = dpo_loss(
                logps[w_idx],
                logps[l_idx],
                ir.ref_logps[w_idx],
                ir.ref_logps[l_idx],
                beta=p.beta,
                label_smoothing=p.label_smoothing,
            )
            (p.weight * share * loss).backward()
            keys = ("margin", "accuracy")
        k = p.kind
        stats = dist.all_reduce(
            torch.tensor([float(loss.detach()) * share] + [float(m[x]) * share for x in keys])
        )
        return {
            f"{k}_loss": float(stats[0]),
            **{f"{k}_{x}": float(v) for x, v in zip(keys, stats[1:], strict=True)},
        }

    def _seq_logps_grad(self, batch: RolloutBatch) -> Tensor:
        tok = completion_logprobs(self.model, batch)
        return sequence_logprobs(
            tok, batch.completion_mask.to(tok.device), length_normalize=self.cfg.preference.length_normalize
        )

    # --- metrics -------------------------------------------------------------------------------

    def reward_metrics(self, exp: Experience) -> dict[str, float]:
        """Global reward, format and compile rates, per-target-language pass rate, KL, lengths."""
        langs = list(self.cfg.data.target_langs)
        mask = exp.rollout.completion_mask.float()
        row = [
            float(exp.rewards.sum()),
            float(len(exp.results)),
            sum(float(r.format_ok) for r in exp.results),
            sum(float(r.compiled) for r in exp.results),
            float(((exp.old_logp - exp.ref_logp) * mask).sum()),
            float(mask.sum()),
        ]
        for lang in langs:
            mine = [r for r, t in zip(exp.results, exp.tasks, strict=True) if t.target_lang == lang]
            row += [sum(float(r.reward or 0.0) for r in mine), float(len(mine))]
        s = self.dist.all_reduce(torch.tensor(row))
        n = float(s[1])
        out = {
            "reward": float(s[0]) / n,
            "format_rate": float(s[2]) / n,
            "compile_rate": float(s[3]) / n,
            "kl": float(s[4]) / max(float(s[5]), 1.0),
            "response_tokens": float(s[5]) / n,
        }
        for i, lang in enumerate(langs):
            count = float(s[7 + 2 * i])
            if count:
                out[f"pass_rate/{lang}"] = float(s[6 + 2 * i]) / count
        return out


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
