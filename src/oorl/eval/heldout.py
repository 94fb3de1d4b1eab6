"""One fixed held-out evaluation for the checkpoints of a run (`oorl demo`, `oorl ablate`).

Every checkpoint is scored on the same things: held-out translation pass@1 (sampled as configured
and greedy, per target language) and GEPO's own metrics on held-out IR groups (oorl.eval.ir),
whose reference log-probs come from the run's reference (the SFT model) and are computed once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from oorl.config import TrainConfig
from oorl.eval.ir import IREvalSet, IRPreferenceEval, ir_eval_set, ir_logprobs, preference_metrics
from oorl.eval.translation import TranslationEval, evaluate_translation


def heldout_sample(tasks: list, k: int, seed: int) -> list:
    """A seeded sample of `k` held-out tasks, balanced over target languages (round-robin)."""
    by_lang: dict[str, list] = {}
    for t in sorted(tasks, key=lambda t: t.id):
        by_lang.setdefault(t.target_lang, []).append(t)
    rng = random.Random(seed)
    for v in by_lang.values():
        rng.shuffle(v)
    out, i = [], 0
    while len(out) < k and any(i < len(v) for v in by_lang.values()):
        out += [v[i] for v in by_lang.values() if i < len(v)][: k - len(out)]
        i += 1
    return out


@dataclass
class HeldoutEval:
    """What one checkpoint scored."""

    sampled: TranslationEval  # as configured (greedy when eval.n_samples == 1)
    greedy: TranslationEval
    ir: IRPreferenceEval | None  # None when eval.ir_groups is 0 or no held-out group fits
    parameters: int

    def scores(self) -> dict:
        """Flat numbers for summaries: the headline metrics and the per-language breakdowns."""
        out = {
            "pass_at_1": self.sampled.pass_at_1,
            "greedy_pass_at_1": self.greedy.pass_at_1,
            "per_language": self.sampled.per_language,
            "greedy_per_language": self.greedy.per_language,
            "format_rate": self.sampled.format_rate,
            "sandbox_errors": self.sampled.sandbox_errors + self.greedy.sandbox_errors,
        }
        if self.ir is not None:
            out |= {
                "ir_pair_accuracy": self.ir.pair_accuracy,
                "ir_group_accuracy": self.ir.group_accuracy,
                "ir_margin": self.ir.margin,
                "ir_matched_accuracy": self.ir.matched_accuracy,
                "ir_groups": self.ir.n_groups,
                "ir_pairs": self.ir.n_pairs,
            }
        return out


class HeldoutEvaluator:
    """Scores checkpoints that share `reference`'s tokenizer against `reference`.

    Args:
        cfg: the run's config (data split, eval settings, GEPO's beta and IR options).
        reward_fn: the training reward (the sandbox), so evaluation and training judge alike.
        reference: the reference model's folder (the SFT model of the run).
        cache: where to keep the reference's IR log-probs between processes (optional).
    """

    def __init__(self, cfg: TrainConfig, reward_fn, reference: str | Path, *, cache: Path | None = None):
        from oorl.train.data import build_tasks, load_ir_groups, split_ir_groups, warn_long_answers
        from oorl.train.model import load_tokenizer

        self.cfg, self.reward_fn, self.reference = cfg, reward_fn, str(reference)
        m = cfg.model
        tokenizer = load_tokenizer(
            self.reference, trust_remote_code=m.trust_remote_code, chat_template_kwargs=m.chat_template_kwargs
        )
        _, heldout = build_tasks(cfg.data)
        self.tasks = heldout_sample(heldout, cfg.eval.max_tasks, cfg.data.split_seed)
        warn_long_answers(self.tasks, tokenizer, cfg.eval.max_new_tokens, "eval.max_new_tokens")
        self.ir_set: IREvalSet | None = None
        self._ref_logps: torch.Tensor | None = None
        self._cache = cache
        groups = load_ir_groups(cfg.data.ir_groups) if cfg.eval.ir_groups > 0 else None
        if groups:
            _, held = split_ir_groups(groups, cfg.data.heldout_fraction, cfg.data.split_seed)
            ir_set = ir_eval_set(
                held,
                tokenizer,
                max_tokens=cfg.data.max_ir_tokens,
                compact=cfg.data.ir_compact,
                max_groups=cfg.eval.ir_groups,
            )
            self.ir_set = ir_set if ir_set.seqs else None

    def _logps(self, model, tokenizer) -> torch.Tensor:
        return ir_logprobs(
            model,
            tokenizer,
            self.ir_set,
            micro_batch_size=self.cfg.onpolicy.micro_batch_size,
            length_normalize=self.cfg.preference.length_normalize,
        )

    def reference_logps(self) -> torch.Tensor:
        """(S,) the reference's log-probs of the IR set, computed once (and cached to disk if asked)."""
        from oorl.train.model import load_model

        if self._ref_logps is None:
            # the IR set and how a sequence is scored: a cache of other settings is recomputed
            key = f"{self.ir_set.fingerprint()} length_normalize={self.cfg.preference.length_normalize}"
            kept = torch.load(self._cache) if self._cache is not None and self._cache.exists() else None
            if isinstance(kept, dict) and kept.get("key") == key:
                self._ref_logps = kept["logps"]
            else:
                model, tokenizer = load_model(self.cfg.model, self.reference)
                self._ref_logps = self._logps(model.eval(), tokenizer)
                if self._cache is not None:
                    tmp = self._cache.with_suffix(".tmp")
                    torch.save({"key": key, "logps": self._ref_logps}, tmp)
                    tmp.replace(self._cache)
        return self._ref_logps

    def __call__(self, path: str | Path, label: str, *, seed: int) -> HeldoutEval:
        """Score the checkpoint at `path`; `seed` seeds the sampled evaluation."""
        from oorl.train.model import count_parameters, load_model

        model, tokenizer = load_model(self.cfg.model, str(path))
        model.eval()
        e = self.cfg.eval
        run = lambda settings, tag: evaluate_translation(  # noqa: E731
            model,
            tokenizer,
            self.tasks,
            self.reward_fn,
            settings,
            progress=self.cfg.log.progress,
            label=f"{label} {tag}",
            seed=seed,
        )
        sampled = run(e, "sampled" if e.n_samples > 1 else "greedy")
        greedy = run(e.model_copy(update={"n_samples": 1}), "greedy") if e.n_samples > 1 else sampled
        ir = None
        if self.ir_set is not None:
            ref = self.reference_logps()
            same = Path(path).resolve() == Path(self.reference).resolve()
            policy = ref if same else self._logps(model, tokenizer)
            ir = preference_metrics(
                policy,
                ref,
                self.ir_set.winner,
                self.ir_set.group,
                beta=self.cfg.preference.beta,
                matched=self.ir_set.matched,
            )
        return HeldoutEval(sampled, greedy, ir, count_parameters(model))
