"""GEPO's held-out IR metrics: hand-worked implicit rewards, ties, and which groups are scored."""

import pytest
import torch

from oorl.eval.ir import ir_eval_set, ir_logprobs, preference_metrics
from oorl.ir.schema import IRGroup


def _metrics(policy, ref, winner, group, beta=0.5):
    return preference_metrics(
        torch.tensor(policy, dtype=torch.float64),
        torch.tensor(ref, dtype=torch.float64),
        torch.tensor(winner),
        torch.tensor(group),
        beta=beta,
    )


def test_pair_and_group_accuracy_by_hand():
    # group 7: winners r = 2, 0; losers r = 1 -> pairs (2 > 1) yes, (0 > 1) no -> 1 of 2
    #          mean_W 1 == mean_L 1 -> a tie, half a group; margin 0
    # group 3: winner r = -1; losers r = -3, -1 -> pairs yes, tie -> 1.5 of 2
    #          mean_W -1 > mean_L -2 -> a group; margin beta * 1 = 0.5
    policy = [2.0, 0.0, 1.0, -1.0, -3.0, -1.0]
    ref = [0.0] * 6
    winner = [True, True, False, True, False, False]
    group = [7, 7, 7, 3, 3, 3]
    m = _metrics(policy, ref, winner, group)
    assert m.n_pairs == 4 and m.n_groups == 2 and m.matched_accuracy is None
    assert m.pair_accuracy == pytest.approx(2.5 / 4)
    assert m.group_accuracy == pytest.approx(1.5 / 2)
    assert m.margin == pytest.approx((0.0 + 0.5) / 2)


def test_matched_pairs_compare_a_loser_with_its_parent_only():
    # winners r = 5 (O0), 0 (O2); loser r = 1 mutated from O2: all pairs 1 of 2, matched 0 of 1
    winner, group = torch.tensor([True, True, False]), torch.tensor([0, 0, 0])
    matched = torch.zeros(3, 3, dtype=torch.bool)
    matched[1, 2] = True
    m = preference_metrics(
        torch.tensor([5.0, 0.0, 1.0]), torch.zeros(3), winner, group, beta=1.0, matched=matched
    )
    assert (m.pair_accuracy, m.matched_accuracy, m.n_matched) == (0.5, 0.0, 1)


def test_the_reference_against_itself_is_chance():
    lp = [-10.0, -12.0, -9.0, -30.0]
    m = _metrics(lp, lp, [True, False, False, True], [0, 0, 0, 0])
    assert (m.pair_accuracy, m.group_accuracy, m.margin) == (0.5, 0.5, 0.0)


def test_the_reward_is_the_log_ratio_not_the_log_prob():
    # the winner is less likely than the loser in absolute terms, but gained more than its reference
    m = _metrics([-50.0, -20.0], [-60.0, -19.0], [True, False], [0, 0], beta=0.1)
    assert m.pair_accuracy == 1.0 and m.margin == pytest.approx(0.1 * (10.0 - (-1.0)))


def _group(i: int, n_lines: int) -> IRGroup:
    body = "".join(f"  %v{k} = add i32 %x, {k}\n" for k in range(n_lines))
    ir = f"define i32 @f(i32 %x) {{\n{body}  ret i32 %x\n}}\n"
    return IRGroup.model_validate(
        {
            "id": f"g{i}",
            "source_lang": "c",
            "source": "int f(int x) { return x; }",
            "prompt": "Compile to LLVM IR: int f(int x) { return x; }",
            "winners": [
                {"ir": ir, "opt_levels": ["O0"]},
                {"ir": ir.replace("add", "add nsw"), "opt_levels": ["O1"]},
            ],
            "losers": [
                {
                    "ir": ir.replace("ret i32 %x", "ret i32 0"),
                    "operator": "const_perturb",
                    "from_opt_level": "O0",
                    "witness": {"stdin": "1\n", "expected": "1\n", "observed": "0\n", "kind": "output"},
                }
            ],
            "exec": {},
            "provenance": {},
        }
    )


def test_eval_set_keeps_whole_groups_that_fit_and_scores_them(tiny_model_dir):
    from oorl.config import ModelSettings
    from oorl.train.model import load_model

    model, tok = load_model(ModelSettings(name_or_path=str(tiny_model_dir)), str(tiny_model_dir))
    groups = [_group(0, 2), _group(1, 400), _group(2, 3)]  # the middle one cannot fit 256 tokens
    data = ir_eval_set(groups, tok, max_tokens=256, max_winners=2, max_losers=2, compact=False, max_groups=10)
    assert data.dropped["too_long"] == 1 and data.n_groups == 2
    assert sorted({s.group for s in data.seqs}) == [0, 2] and data.winner.tolist() == [True, True, False] * 2
    # the loser was mutated from the O0 winner: one matched pair per group
    assert data.matched.sum().item() == 2 and data.matched[0, 2] and not data.matched[1, 2]
    lp = ir_logprobs(model.eval(), tok, data, micro_batch_size=4)
    assert lp.shape == (6,) and bool((lp < 0).all())
    # micro-batching does not change a log-prob
    torch.testing.assert_close(ir_logprobs(model, tok, data, micro_batch_size=1), lp, rtol=1e-5, atol=1e-4)
    one = ir_eval_set(groups, tok, max_tokens=256, max_winners=2, max_losers=2, compact=False, max_groups=1)
    assert one.n_groups == 1


def test_reference_logprobs_are_kept_for_the_set_they_were_computed_on(
    tiny_model_dir, data_dir, tmp_path, monkeypatch
):
    from train_fakes import tiny_overrides

    import oorl.train.model
    from oorl.config import load_config
    from oorl.eval.heldout import HeldoutEvaluator

    def evaluator(n_groups: int) -> HeldoutEvaluator:
        overrides = [
            *tiny_overrides(data_dir, tmp_path),
            "data.heldout_fraction=0.5",
            f"eval.ir_groups={n_groups}",
        ]
        cfg = load_config(None, overrides)
        return HeldoutEvaluator(cfg, None, tiny_model_dir, cache=tmp_path / "ir_reference.pt")

    one = evaluator(1).reference_logps()
    two = evaluator(2)
    assert two.ir_set.n_groups == 2 and two.reference_logps().shape == (2 * one.numel(),)
    # the first group alike in both (micro-batches pad it differently: the tolerance of padding)
    torch.testing.assert_close(two.reference_logps()[: one.numel()], one, rtol=1e-5, atol=1e-4)
    # the cache now holds the two-group set's log-probs: the same set reads them, without a model
    monkeypatch.setattr(oorl.train.model, "load_model", lambda *a, **k: pytest.fail("recomputed"))
    assert torch.equal(evaluator(2).reference_logps(), two.reference_logps())
