import pytest
import torch
from train_fakes import make_trainer, tiny_overrides

from oorl.config import load_config
from oorl.rewards import RewardResult
from oorl.rollout import RolloutBatch
from oorl.train.data import Cursor, is_heldout, split_problems
from oorl.train.recipe import without_sandbox_errors
from oorl.train.sequences import completion_logprobs


def _cfg(data_dir, tmp_path, *extra):
    return load_config(None, [*tiny_overrides(data_dir, tmp_path / "run"), *extra])


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _nudge(trainer):
    """Move the policy off the reference so KL, ratios and GEPO margins are not trivially zero."""
    with torch.no_grad():
        for p in trainer.model.parameters():
            p.add_(0.02 * torch.randn_like(p))


def test_micro_batching_does_not_change_the_gradient(data_dir, tiny_model_dir, tmp_path):
    """Token-mean over the whole step: 1 micro-batch of 4 == 4 micro-batches of 1 (and GEPO 2 == 1)."""
    grads = []
    for mb in (4, 1):
        torch.manual_seed(0)
        trainer = make_trainer(_cfg(data_dir, tmp_path, f"onpolicy.micro_batch_size={mb}"), tiny_model_dir)
        _nudge(trainer)
        exp, _ = trainer.collect([trainer.tasks[0], trainer.tasks[1]])
        ir = trainer.ir_batch()
        trainer.onpolicy_backward(exp)
        trainer.preference_backward(ir)
        grads.append(_grads(trainer.model))
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for name, g in grads[0].items():
        torch.testing.assert_close(grads[1][name], g, atol=1e-6, rtol=1e-4, msg=name)


def test_memory_light_gepo_gives_the_plain_gradient(data_dir, tiny_model_dir, tmp_path):
    out = []
    for light in (False, True):
        torch.manual_seed(0)
        cfg = _cfg(
            data_dir,
            tmp_path,
            "onpolicy.enabled=false",
            f"preference.memory_light={str(light).lower()}",
            "preference.weight=1.0",
            "onpolicy.micro_batch_size=1",
        )
        trainer = make_trainer(cfg, tiny_model_dir)
        _nudge(trainer)
        metrics = trainer.preference_backward(trainer.ir_batch())
        out.append((metrics, _grads(trainer.model)))
    (m0, g0), (m1, g1) = out
    assert m0["gepo_loss"] == pytest.approx(m1["gepo_loss"], rel=1e-5)
    assert any(float(g.abs().max()) > 0 for g in g0.values())
    for name, g in g0.items():
        torch.testing.assert_close(g1[name], g, atol=1e-6, rtol=1e-4, msg=name)


@pytest.mark.parametrize(
    ("kind", "present", "absent"),
    [
        (
            "gepo",
            {"gepo_loss", "gepo_margin", "gepo_accuracy", "gepo_winner_var", "policy_loss"},
            {"dpo_loss"},
        ),
        ("dpo", {"dpo_loss", "dpo_margin", "dpo_accuracy", "policy_loss"}, {"gepo_loss"}),
        ("none", {"policy_loss", "reward", "clip_frac", "kl"}, {"gepo_loss", "dpo_loss"}),
    ],
)
def test_ablation_switches_select_the_losses(data_dir, tiny_model_dir, tmp_path, kind, present, absent):
    trainer = make_trainer(
        _cfg(data_dir, tmp_path, f"preference.kind={kind}", "optim.warmup_ratio=0.0"), tiny_model_dir
    )
    before = [p.detach().clone() for p in trainer.model.parameters()]
    metrics = trainer.step()
    assert present <= metrics.keys() and not (absent & metrics.keys())
    assert {
        "time_generate",
        "time_sandbox",
        "time_train",
        "tokens_per_s",
        "lr",
        "pass_rate/javascript",
    } <= metrics.keys()
    changed = sum(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))
    assert changed > 0


def test_policy_logprobs_are_taken_at_the_rollout_temperature(data_dir, tiny_model_dir, tmp_path):
    """Old and new log-probs are of the distribution the rollout sampled (logits / temperature): on
    the first update every PPO ratio is exactly 1."""
    trainer = make_trainer(_cfg(data_dir, tmp_path, "rollout.temperature=0.5"), tiny_model_dir)
    _nudge(trainer)
    exp, _ = trainer.collect([trainer.tasks[0], trainer.tasks[1]])
    with torch.no_grad():
        tempered = completion_logprobs(trainer.model, exp.rollout, temperature=0.5)
        plain = completion_logprobs(trainer.model, exp.rollout)
    mask = exp.rollout.completion_mask
    torch.testing.assert_close(exp.old_logp[:, : mask.shape[1]] * mask, tempered * mask, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(plain * mask, tempered * mask, atol=1e-3)
    sums = trainer.onpolicy_backward(exp)
    assert sums["approx_kl"] == pytest.approx(0.0, abs=1e-6) and sums["clipped"] == 0.0 and sums["tokens"] > 0


def test_mini_batches_make_optimizer_steps_so_the_clip_acts(data_dir, tiny_model_dir, tmp_path):
    """2 epochs x 2 mini-batches = 4 optimizer steps per OORL step: from the second on, the policy
    has moved away from the rollout policy, so ratios leave [1 - eps, 1 + eps] and the clip acts.
    The IR batch's GEPO gradient joins the first optimizer step only."""
    cfg = _cfg(
        data_dir,
        tmp_path,
        "onpolicy.ppo_epochs=2",
        "onpolicy.mini_batches=2",
        "onpolicy.clip_eps=0.05",
        "optim.lr=3e-2",
        "optim.warmup_ratio=0.0",
        "optim.schedule=constant",
    )
    torch.manual_seed(0)
    trainer = make_trainer(cfg, tiny_model_dir)
    calls = []
    original = trainer.preference_backward
    trainer.preference_backward = lambda ir: calls.append(1) or original(ir)
    metrics = trainer.step()
    assert metrics["clip_frac"] > 0, metrics
    assert trainer.engine.scheduler.last_epoch == 4  # optimizer steps taken
    assert len(calls) == 1 and "gepo_loss" in metrics
    # one OORL step with the default 1 x 1: one optimizer step, ratios all 1, nothing clipped
    one = make_trainer(_cfg(data_dir, tmp_path, "optim.lr=3e-2", "onpolicy.clip_eps=0.05"), tiny_model_dir)
    assert one.step()["clip_frac"] == 0.0 and one.engine.scheduler.last_epoch == 1


def test_reference_stays_frozen_while_the_policy_moves(data_dir, tiny_model_dir, tmp_path):
    trainer = make_trainer(_cfg(data_dir, tmp_path, "optim.warmup_ratio=0.0"), tiny_model_dir)
    ref0 = [p.detach().clone() for p in trainer.reference.frozen.parameters()]
    trainer.step()
    assert all(torch.equal(a, b) for a, b in zip(ref0, trainer.reference.frozen.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(ref0, trainer.model.parameters(), strict=True))


def test_sandbox_errors_are_masked_not_zero_rewards():
    results = [
        RewardResult(reward=1.0, format_ok=True),
        RewardResult(reward=None, format_ok=True, sandbox_error=True),
        RewardResult(reward=0.0, format_ok=True),
        RewardResult(reward=0.0, format_ok=False),
    ]
    ids = torch.ones(4, 3, dtype=torch.long)
    mask = torch.ones(4, 3, dtype=torch.bool)
    rollout = RolloutBatch(ids, mask, ids, mask, [""] * 4)
    rewards, masked = without_sandbox_errors(results, rollout, group_size=2)
    assert rewards.tolist() == [1.0, 1.0, 0.0, 0.0]  # the error sample takes its group's mean
    assert masked.completion_mask.sum(-1).tolist() == [3, 0, 3, 3]


def test_cursor_is_a_resumable_permutation_walk():
    a = Cursor(5, seed=3)
    first = a.take(7)
    assert sorted(first[:5]) == list(range(5))  # epoch 0 is a permutation
    b = Cursor(5, seed=3)
    b.load_state_dict(a.state_dict())
    assert a.take(6) == b.take(6)
    c = Cursor(5, seed=3)
    assert c.take(7) == first


def test_split_is_deterministic_and_disjoint(data_dir):
    from oorl.train.data import load_problems

    problems = load_problems(str(data_dir / "problems.jsonl"))
    train, held = split_problems(problems, 0.25, seed=0)
    assert {p.id for p in train}.isdisjoint({p.id for p in held})
    assert len(train) + len(held) == len(problems) and held
    assert all(is_heldout(p.id, 0.25, 0) for p in held)
    assert split_problems(list(reversed(problems)), 0.25, seed=0)[1] == list(reversed(held))


def test_sft_and_rl_problems_are_disjoint_below_share_one(data_dir):
    from oorl.config import DataSettings
    from oorl.train.data import build_tasks, sft_rl_split

    tasks, _ = build_tasks(
        DataSettings(
            problems=str(data_dir / "problems.jsonl"),
            source_langs=["python"],
            target_langs=["javascript"],
            heldout_fraction=0.25,
        )
    )
    sft, rl = sft_rl_split(tasks, 0.5, seed=0)
    assert sft and rl and len(sft) + len(rl) == len(tasks)
    assert {t.problem.id for t in sft}.isdisjoint({t.problem.id for t in rl})
    assert sft_rl_split(tasks, 1.0, seed=0) == (tasks, tasks)


@pytest.mark.parametrize("weight", [1.0, 0.0])
def test_split_gradient_norms_add_up_to_the_step_norm(data_dir, tiny_model_dir, tmp_path, weight):
    """log.grad_norms: |g|^2 = |g_pref|^2 + |g_onp|^2 + 2 |g_pref| |g_onp| cos, against the norm the
    engine clips; a zero preference weight gives a zero preference gradient."""
    torch.manual_seed(0)
    cfg = _cfg(
        data_dir, tmp_path, "log.grad_norms=true", f"preference.weight={weight}", "optim.max_grad_norm=1e9"
    )
    trainer = make_trainer(cfg, tiny_model_dir)
    _nudge(trainer)
    m = trainer.step()
    p, o, cos = m["grad_norm_preference"], m["grad_norm_onpolicy"], m["grad_cosine"]
    assert o > 0 and -1.0 <= cos <= 1.0
    assert m["grad_norm"] ** 2 == pytest.approx(p**2 + o**2 + 2 * p * o * cos, rel=1e-4)
    if weight == 0.0:
        assert p == 0.0 and m["grad_norm"] == pytest.approx(o, rel=1e-5)
    else:
        assert p > 0
