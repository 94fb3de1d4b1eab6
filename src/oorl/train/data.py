"""What the trainer reads: translation tasks (train / held-out split), SFT pairs, IR groups, and
deterministic resumable samplers over them.

The split is a pure function of the problem id (a salted hash), so it never depends on file order
and a held-out problem never leaks into SFT or RL, in any process.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from oorl.config import DataSettings, SyntheticSettings
from oorl.jsonl import read_jsonl
from oorl.tasks.prompts import fence_tag, render_chat, render_prompt
from oorl.tasks.schema import Problem
from oorl.tasks.translation import TranslationTask, ensure_trainable, make_tasks


def bundled_path(*parts: str) -> Path:
    """A file of the package data (`oorl/data/...`)."""
    return Path(str(resources.files("oorl").joinpath("data", *parts)))


def synthetic_problems(s: SyntheticSettings, languages: list[str] | None = None) -> list[Problem]:
    """Generated problems (deterministic in the settings); judged in the sandbox when `s.verify`."""
    from oorl.tasks.synthetic.generate import candidates, verify
    from oorl.tasks.synthetic.program import GenConfig

    gen = GenConfig(
        n_locals=s.n_locals,
        n_stmts=s.n_stmts,
        block_stmts=s.block_stmts,
        max_nesting=s.max_nesting,
        expr_depth=s.expr_depth,
        n_outputs=s.n_outputs,
    )
    problems = candidates(s.problems, s.seed, gen, s.n_tests)
    if s.verify:
        from oorl.sandbox import Sandbox

        with Sandbox() as sandbox:
            verify(sandbox, problems, languages or list(problems[0].solutions), progress="verify synthetic")
    return problems


def load_problems(
    path: str | None, synthetic: SyntheticSettings | None = None, languages: list[str] | None = None
) -> list[Problem]:
    """Problems from `path`, generated ones, or the bundled synthetic corpus; malformed rows name
    file and line."""
    if synthetic is not None:
        return synthetic_problems(synthetic, languages)
    p = Path(path) if path else bundled_path("synthetic", "problems.jsonl")
    if not p.exists():
        hint = "" if path else " (build it with `oorl data synth`)"
        raise FileNotFoundError(f"problems file {p} not found{hint}")
    return read_jsonl(p, Problem)


def is_heldout(problem_id: str, fraction: float, seed: int) -> bool:
    """Deterministic membership of the held-out split: a salted SHA-256 of the id, uniform in [0, 1)."""
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_problems(
    problems: list[Problem], fraction: float, seed: int
) -> tuple[list[Problem], list[Problem]]:
    """(train, held-out)."""
    train = [p for p in problems if not is_heldout(p.id, fraction, seed)]
    heldout = [p for p in problems if is_heldout(p.id, fraction, seed)]
    return train, heldout


def sft_rl_split(tasks: list[TranslationTask], share: float, seed: int) -> tuple[list, list]:
    """(SFT tasks, RL tasks) of the training tasks. With `share` < 1 the two use disjoint problems
    (a salted hash of the problem id): RL then practises on programs whose references it never saw,
    which needs only their unit tests. With `share` == 1 both use every training task."""
    if share >= 1.0:
        return tasks, tasks
    in_sft = [not is_heldout(t.problem.id, 1.0 - share, seed + 1) for t in tasks]
    return [t for t, s in zip(tasks, in_sft, strict=True) if s], [
        t for t, s in zip(tasks, in_sft, strict=True) if not s
    ]


def language_pairs(data: DataSettings) -> list[tuple[str, str]]:
    return [(s, t) for s, t in itertools.product(data.source_langs, data.target_langs) if s != t]


def build_tasks(data: DataSettings) -> tuple[list[TranslationTask], list[TranslationTask]]:
    """(train tasks, held-out tasks) over every configured (source, target) pair.

    Training tasks refuse evaluation-only problems (MultiPL-E's license); held-out ones may use them.
    """
    problems = load_problems(data.problems, data.synthetic, sorted({*data.source_langs, *data.target_langs}))
    train, heldout = split_problems(problems, data.heldout_fraction, data.split_seed)
    ensure_trainable(train)
    pairs = language_pairs(data)
    return make_tasks(train, pairs), make_tasks(heldout, pairs)


def fitting_prompts(tasks: list[TranslationTask], tokenizer, max_tokens: int) -> list[TranslationTask]:
    """The tasks whose chat-rendered prompt has at most `max_tokens` tokens; the rest are dropped,
    never truncated, and their count is logged."""
    kept = [
        t
        for t in tasks
        if len(tokenizer(render_prompt(t, tokenizer), add_special_tokens=False)["input_ids"]) <= max_tokens
    ]
    if len(kept) < len(tasks):
        logging.getLogger("oorl.train").warning(
            "%d of %d translation tasks left out: prompt longer than data.max_prompt_tokens=%d",
            len(tasks) - len(kept),
            len(tasks),
            max_tokens,
        )
    return kept


def warn_long_answers(tasks: list[TranslationTask], tokenizer, max_new_tokens: int, setting: str) -> int:
    """How many tasks have a reference answer (as SFT teaches it) longer than `max_new_tokens`,
    logged per target language: a policy that answers like its references is cut off there, so
    those tasks score 0 whatever it learns (at 128 tokens, half of the toy's PHP tasks were)."""
    lengths: dict[str, list[int]] = {}
    for t in tasks:
        if t.reference is not None:
            n = len(tokenizer(answer_text(t), add_special_tokens=False)["input_ids"])
            lengths.setdefault(t.target_lang, []).append(n)
    over = {lang: sum(n > max_new_tokens for n in ns) for lang, ns in sorted(lengths.items())}
    total = sum(over.values())
    if total:
        logging.getLogger("oorl.train").warning(
            "%d of %d reference answers are longer than %s=%d tokens, so cut off (%s)",
            total,
            sum(map(len, lengths.values())),
            setting,
            max_new_tokens,
            ", ".join(
                f"{lang}: {k} of {len(lengths[lang])}, longest {max(lengths[lang])}"
                for lang, k in over.items()
                if k
            ),
        )
    return total


def answer_text(task: TranslationTask) -> str:
    """The SFT target: the reference translation in the one fenced block the reward expects."""
    if task.reference is None:
        raise ValueError(f"task {task.id} has no reference solution in {task.target_lang}")
    return f"```{fence_tag(task.target_lang)}\n{task.reference.rstrip()}\n```"


def sft_pairs(tasks: list[TranslationTask], tokenizer) -> list[tuple[str, str]]:
    """(chat-rendered prompt, answer) for every task with a target reference: the RL prompt format."""
    return [(render_prompt(t, tokenizer), answer_text(t)) for t in tasks if t.reference is not None]


# --- IR groups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IRSequence:
    """One winner or loser IR of a group, flattened for batching."""

    group: int  # index of the group in the dataset
    winner: bool
    ir: str
    levels: tuple[str, ...] = ()  # a winner's optimisation levels; a loser's: the level it was mutated from


BUNDLED_IR_GROUPS = ("ir", "synthetic", "groups.jsonl.gz")
"""Built from the first 600 programs of the demo's synthetic corpus (data/ir/synthetic/README.md)."""


def load_ir_groups(path: str | None):
    """IR groups from `path` or the bundled file; None when the bundled file is missing."""
    from oorl.ir.schema import IRGroup

    p = Path(path) if path else bundled_path(*BUNDLED_IR_GROUPS)
    if not p.exists():
        if path:
            raise FileNotFoundError(f"IR groups file {p} not found")
        return None
    return read_jsonl(p, IRGroup)


def split_ir_groups(groups: list, fraction: float, seed: int) -> tuple[list, list]:
    """(train, held-out) IR groups, split by source program exactly as the translation problems
    are (`is_heldout` of the group id, which is its source's id): a group built from a held-out
    problem's C rendering is held out too."""
    return [g for g in groups if not is_heldout(g.id, fraction, seed)], [
        g for g in groups if is_heldout(g.id, fraction, seed)
    ]


def ir_sequences(
    group, index: int, *, max_winners: int | None, max_losers: int | None, compact: bool = False
) -> list[IRSequence]:
    """The first `max_winners` winners and `max_losers` losers of a group (None: all; >= 1 of each,
    else []), compacted (`compact_ir`) when asked.

    Losers mutated from a kept winner come first: such a pair differs at one site only, so it
    teaches which IR is equivalent, not which optimisation level's style to prefer. (With the
    first losers whatever their level, DPO and GEPO on the tiny model learned to favour the style
    of the kept winners' levels, and fell below chance on held-out loser-and-parent pairs.)
    """
    from oorl.ir.normalize import compact_ir

    view = compact_ir if compact else str
    kept = group.winners[:max_winners]
    levels = {lv for w in kept for lv in w.opt_levels}
    children = sorted(group.losers, key=lambda x: x.from_opt_level not in levels)  # stable
    winners = [IRSequence(index, True, view(w.ir), tuple(w.opt_levels)) for w in kept]
    losers = [IRSequence(index, False, view(x.ir), (x.from_opt_level,)) for x in children[:max_losers]]
    return winners + losers if winners and losers else []


def ir_text(ir: str) -> str:
    """The completion a GEPO sequence trains on: the IR in one fenced `llvm` block."""
    return f"```llvm\n{ir.rstrip()}\n```"


def fit_ir_groups(
    groups: list,
    tokenizer,
    max_tokens: int,
    *,
    max_winners: int | None,
    max_losers: int | None,
    compact: bool = False,
) -> tuple[list[tuple[int, list[IRSequence]]], dict[str, int]]:
    """The IR groups a step may train on, as (dataset index, sequences), and why others were left out.

    Nothing is truncated into a training sequence: a group whose chat-rendered prompt plus its
    longest winner or loser (with the end-of-turn token) exceeds `max_tokens` is dropped whole
    (truncation made losers token-identical copies of winners). A loser whose tokens equal a
    winner's is dropped too; a group left without a winner or a loser is dropped.

    Returns:
        (usable, counts) with counts {"too_long": ..., "no_pair": ..., "loser_equals_winner": ...}.
    """
    usable, counts = [], {"too_long": 0, "no_pair": 0, "loser_equals_winner": 0}
    for index, group in enumerate(groups):
        seqs = ir_sequences(group, index, max_winners=max_winners, max_losers=max_losers, compact=compact)
        if not seqs:
            counts["no_pair"] += 1
            continue
        n_prompt = len(tokenizer(ir_prompt(group, tokenizer), add_special_tokens=False)["input_ids"])
        ids = [tuple(tokenizer(ir_text(s.ir), add_special_tokens=False)["input_ids"]) for s in seqs]
        if n_prompt + max(len(x) for x in ids) + 1 > max_tokens:
            counts["too_long"] += 1
            continue
        winner_ids = {x for x, s in zip(ids, seqs, strict=True) if s.winner}
        kept = [s for x, s in zip(ids, seqs, strict=True) if s.winner or x not in winner_ids]
        counts["loser_equals_winner"] += len(seqs) - len(kept)
        if all(s.winner for s in kept):
            counts["no_pair"] += 1
            continue
        usable.append((index, kept))
    return usable, counts


def ir_prompt(group, tokenizer) -> str:
    """The group's C-to-IR prompt in the model's chat format."""
    messages = [{"role": "user", "content": group.prompt}]
    if getattr(tokenizer, "chat_template", None):
        return render_chat(tokenizer, messages)
    return group.prompt + "\n"


# --- samplers --------------------------------------------------------------------------------


class Cursor:
    """An endless, seeded, resumable walk over `size` items: a fresh permutation every epoch.

    The state is `(epoch, position)`; every rank walks the same global order and takes its shard.
    """

    def __init__(self, size: int, seed: int):
        if size < 1:
            raise ValueError("cannot sample from an empty dataset")
        self.size, self.seed = size, seed
        self.epoch, self.position = 0, 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> list[int]:
        order = list(range(self.size))
        random.Random(f"{self.seed}:{epoch}").shuffle(order)
        return order

    def take(self, k: int) -> list[int]:
        out = []
        for _ in range(k):
            if self.position == self.size:
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self._permutation(self.epoch)
            out.append(self._order[self.position])
            self.position += 1
        return out

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = state["epoch"], state["position"]
        self._order = self._permutation(self.epoch)
