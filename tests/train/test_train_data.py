"""What the trainer reads: chat rendering with template arguments, sequence limits, whole epochs."""

import os
from pathlib import Path

from train_fakes import make_trainer, tiny_overrides

from oorl.config import DataSettings, load_config
from oorl.ir.schema import IRGroup
from oorl.tasks.prompts import render_prompt
from oorl.train.data import (
    Cursor,
    answer_text,
    build_tasks,
    fit_ir_groups,
    ir_prompt,
    sft_pairs,
    warn_long_answers,
)
from oorl.train.dist import Dist
from oorl.train.model import load_tokenizer

QWEN3_TEMPLATE = (Path(__file__).parent / "data" / "qwen3_chat_template.jinja").read_text()
NO_THINK = "<|im_start|>assistant\n<think>\n\n</think>\n\n"


def _tasks(data_dir):
    return build_tasks(
        DataSettings(
            problems=str(data_dir / "problems.jsonl"), source_langs=["python"], target_langs=["javascript"]
        )
    )[0]


def test_qwen3_template_gets_enable_thinking_false_everywhere(tiny_model_dir, data_dir):
    """Qwen3's hybrid-thinking template (its tokenizer_config.json's text, bundled) writes the empty
    think block only when enable_thinking is explicitly false, as the paper config sets it. Every
    rendering passes it: RL prompts, SFT pairs, GEPO prompts (and evaluation, through the same
    render_prompt)."""
    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "paper_qwen3_8b.yaml")
    tok = load_tokenizer(str(tiny_model_dir), chat_template_kwargs=cfg.model.chat_template_kwargs)
    tok.chat_template = QWEN3_TEMPLATE
    task = _tasks(data_dir)[0]
    group = IRGroup.model_validate_json((data_dir / "groups.jsonl").read_text().splitlines()[0])
    rendered = [render_prompt(task, tok), sft_pairs([task], tok)[0][0], ir_prompt(group, tok)]
    assert all(r.endswith(NO_THINK) and r.count("<think>") == 1 for r in rendered)
    assert rendered[0].startswith("<|im_start|>user\nTranslate the following Python code")

    thinking = load_tokenizer(str(tiny_model_dir))  # no kwargs: Qwen3 thinks first
    thinking.chat_template = QWEN3_TEMPLATE
    plain = render_prompt(task, thinking)
    assert plain.endswith("<|im_start|>assistant\n") and "<think>" not in plain


def _group(i: int, ir_lines: int, *, loser_same: bool = False) -> IRGroup:
    """A group whose winner and loser share a long prefix and differ only in their last line."""
    body = "".join(f"  %{k} = add i32 %{k}, 1\n" for k in range(ir_lines))
    winner = f"define i32 @f{i}(i32 %0) {{\n{body}  ret i32 0\n}}"
    loser = winner if loser_same else winner.replace("ret i32 0", "ret i32 1")
    return IRGroup.model_validate(
        {
            "id": f"g{i}",
            "source_lang": "c",
            "source": "int f(void);",
            "prompt": f"Compile to LLVM IR: f{i}",
            "winners": [{"ir": winner, "opt_levels": ["O2"]}],
            "losers": [
                {
                    "ir": loser,
                    "operator": "const",
                    "from_opt_level": "O2",
                    "witness": {"args": ["f"], "expected": "0", "observed": "1", "kind": "output"},
                }
            ],
            "exec": {},
            "provenance": {},
        }
    )


def test_overlong_ir_groups_are_dropped_not_truncated_into_copies(tiny_model_dir, data_dir, tmp_path):
    """A loser that differs from its winner only past the limit would, truncated, be a copy of the
    winner: such groups are dropped whole (counted); so is a loser token-identical to a winner.
    Then no batch drawn over two epochs holds a loser equal to a winner of its group."""
    tok = load_tokenizer(str(tiny_model_dir))
    groups = [_group(0, 2), _group(1, 60), _group(2, 3), _group(3, 2, loser_same=True), _group(4, 80)]
    usable, dropped = fit_ir_groups(groups, tok, 256, max_winners=4, max_losers=4)
    assert [i for i, _ in usable] == [0, 2]
    assert dropped == {"too_long": 2, "no_pair": 1, "loser_equals_winner": 1}

    path = tmp_path / "groups.jsonl"
    path.write_text("".join(g.model_dump_json() + "\n" for g in groups))
    cfg = load_config(
        None,
        [
            *tiny_overrides(data_dir, tmp_path / "run"),
            f"data.ir_groups={path}",
            "data.max_ir_tokens=256",
            "preference.groups_per_step=1",
            "onpolicy.enabled=false",
        ],
    )
    trainer = make_trainer(cfg, tiny_model_dir)
    for _ in range(4):
        ir = trainer.ir_batch()
        mask = ir.batch.completion_mask
        rows = [tuple(ir.batch.completion_ids[i][mask[i]].tolist()) for i in range(mask.shape[0])]
        assert mask.sum(-1).max() + ir.batch.prompt_mask.sum(-1).max() <= 256
        winners = {r for r, w in zip(rows, ir.winner.tolist(), strict=True) if w}
        assert all(r not in winners for r, w in zip(rows, ir.winner.tolist(), strict=True) if not w)


def test_epochs_derive_the_steps_from_the_tasks(tiny_model_dir, data_dir, tmp_path):
    """24 problems, a quarter held out, one language pair: 18 or so tasks; at 2 prompts per step one
    epoch is len(tasks) // 2 steps; `steps` overrides."""
    base = [*tiny_overrides(data_dir, tmp_path / "run"), "steps=null"]
    one = make_trainer(load_config(None, base), tiny_model_dir)
    assert one.total_steps == len(one.tasks) // 2 and one.total_steps >= 5
    two = make_trainer(load_config(None, [*base, "epochs=2"]), tiny_model_dir)
    assert two.total_steps == 2 * one.total_steps
    assert make_trainer(load_config(None, [*base, "steps=3"]), tiny_model_dir).total_steps == 3


def test_epoch_order_is_seeded_sharded_and_resumable():
    """Every rank walks the same seeded permutation and takes its own shard: over an epoch the
    ranks' shares are disjoint and cover every task once; a cursor restored mid-epoch goes on
    exactly as the one it was saved from."""
    size, per_step = 12, 4
    seen = []
    cursors = [Cursor(size, seed=5) for _ in range(2)]
    for _ in range(size // per_step):
        for rank, cursor in enumerate(cursors):
            seen += Dist(rank=rank, world_size=2).shard(cursor.take(per_step))
    assert sorted(seen) == list(range(size))
    a = Cursor(size, seed=5)
    a.take(7)
    b = Cursor(size, seed=5)
    b.load_state_dict(a.state_dict())
    assert a.take(9) == b.take(9)
    assert Cursor(size, seed=6).take(size) != Cursor(size, seed=5).take(size)


def test_sandbox_workers_share_the_cores_among_ranks():
    """Each rank of a node gets its share of the cores, not one worker per core each."""
    from oorl.train.run import sandbox_workers

    cfg = load_config(None)
    cores = len(os.sched_getaffinity(0))
    assert sandbox_workers(cfg, 1) == cores
    assert sandbox_workers(cfg, 2) == max(1, cores // 2)
    assert sandbox_workers(cfg, 64) == 1
    assert sandbox_workers(load_config(None, ["sandbox_workers=3"]), 2) == 3


def test_ir_sequences_keep_the_losers_of_kept_winners_first():
    """A loser mutated from a kept winner differs from it at one site: such losers come first, in
    their file order; the others fill up what is left."""
    from oorl.ir.schema import IRGroup
    from oorl.train.data import ir_sequences

    witness = {"stdin": "1\n", "expected": "1\n", "observed": "2\n", "kind": "output"}
    group = IRGroup.model_validate(
        {
            "id": "g",
            "source_lang": "c",
            "source": "int main(void) { return 0; }",
            "prompt": "p",
            "winners": [{"ir": f"w{lv}", "opt_levels": [lv]} for lv in ("O0", "O1", "O2")],
            "losers": [
                {"ir": f"l{i}", "operator": "x", "from_opt_level": lv, "witness": witness}
                for i, lv in enumerate(("O2", "Oz", "O1", "O0"))
            ],
            "exec": {},
            "provenance": {},
        }
    )
    seqs = ir_sequences(group, 7, max_winners=2, max_losers=2)
    assert [(s.ir, s.levels) for s in seqs] == [
        ("wO0", ("O0",)),
        ("wO1", ("O1",)),
        ("l2", ("O1",)),
        ("l3", ("O0",)),
    ]
    every = ir_sequences(group, 7, max_winners=None, max_losers=None)
    assert [s.ir for s in every] == ["wO0", "wO1", "wO2", "l0", "l2", "l3", "l1"] and {
        s.group for s in every
    } == {7}


def test_reference_answers_over_the_token_budget_are_reported(tiny_model_dir, data_dir, caplog):
    """A task whose reference answer does not fit `max_new_tokens` can only score 0; the count is
    logged per language, naming the setting to raise."""
    tok = load_tokenizer(str(tiny_model_dir))
    tasks = _tasks(data_dir)
    lengths = sorted(len(tok(answer_text(t), add_special_tokens=False)["input_ids"]) for t in tasks)
    budget = lengths[-1] - 1
    expected = sum(n > budget for n in lengths)
    assert expected > 0
    with caplog.at_level("WARNING", logger="oorl.train"):
        assert warn_long_answers(tasks, tok, budget, "rollout.max_new_tokens") == expected
    assert (
        f"{expected} of {len(tasks)} reference answers are longer than rollout.max_new_tokens={budget}"
        in caplog.text
    )
    assert f"javascript: {expected} of {len(tasks)}, longest {lengths[-1]}" in caplog.text
    caplog.clear()
    assert warn_long_answers(tasks, tok, lengths[-1], "eval.max_new_tokens") == 0
    assert not caplog.text


def test_the_toy_recipe_leaves_room_for_every_reference_answer():
    """The embedded default's token budgets fit the longest reference of every training and held-out
    task in its own tokenizer (at 128 tokens, half of its PHP tasks could not be finished)."""
    from oorl.train.model import train_tokenizer
    from oorl.train.run import bundled_texts

    cfg = load_config(Path(__file__).resolve().parents[2] / "configs" / "tiny_cpu.yaml")
    tok = train_tokenizer(bundled_texts(cfg), cfg.tiny.vocab_size)
    train, heldout = build_tasks(cfg.data)
    for budget in (cfg.rollout.max_new_tokens, cfg.eval.max_new_tokens):
        assert warn_long_answers(train + heldout, tok, budget, "max_new_tokens") == 0
