"""The bundled IR groups of the demo's synthetic corpus (src/oorl/data/ir/synthetic): built from the
corpus's own C renderings, split by source program like the translation problems, compactable."""

import functools

import pytest

from oorl.ir.normalize import compact_ir
from oorl.ir.replay import replay_group
from oorl.ir.verify import verify_error
from oorl.train.data import BUNDLED_IR_GROUPS, bundled_path, is_heldout, load_ir_groups, split_ir_groups
from oorl.train.demo import demo_config

GROUPS = load_ir_groups(None)


@functools.cache
def _corpus() -> dict:
    from oorl.train.data import synthetic_problems

    return {p.id: p for p in synthetic_problems(demo_config().data.synthetic)}


def test_the_default_groups_are_the_synthetic_bundle():
    assert bundled_path(*BUNDLED_IR_GROUPS).exists()
    assert len(GROUPS) >= 500 and len({g.id for g in GROUPS}) == len(GROUPS)


def test_groups_come_from_the_demo_corpus_c_renderings():
    corpus = _corpus()
    for g in GROUPS:
        p = corpus[g.id]
        assert g.source == p.solutions["c"], g.id
        assert len(g.winners) >= 2 and len(g.losers) >= 2
        for lo in g.losers:
            assert lo.witness.kind in ("output", "crash", "timeout") and lo.witness.runs >= 2
            assert lo.witness.stdin in [t.stdin for t in p.tests]


def test_held_out_groups_are_the_held_out_problems():
    data = demo_config().data
    train, held = split_ir_groups(GROUPS, data.heldout_fraction, data.split_seed)
    assert len(held) >= 80 and len(train) >= 400
    assert all(is_heldout(g.id, data.heldout_fraction, data.split_seed) for g in held)
    assert not any(is_heldout(g.id, data.heldout_fraction, data.split_seed) for g in train)


def test_compaction_keeps_valid_distinct_irs_and_shortens_them():
    before = after = 0
    for g in GROUPS[::5]:
        winners = {compact_ir(w.ir) for w in g.winners}
        for ir in [w.ir for w in g.winners] + [lo.ir for lo in g.losers]:
            small = compact_ir(ir)
            assert verify_error(small) is None, g.id
            assert "llvm.lifetime" not in small and ", align " not in small
            before, after = before + len(ir), after + len(small)
        for lo in g.losers:
            assert compact_ir(lo.ir) not in winners, g.id  # the mutation survives compaction
    assert after < 0.85 * before


@pytest.mark.parametrize("index", [0, 250, 499])
def test_synthetic_witnesses_replay(sandbox, index):
    assert replay_group(GROUPS[index], sandbox) == []
