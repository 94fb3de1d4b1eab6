"""The bundled C sources and the IR groups built from them (src/oorl/data/ir)."""

import hashlib
import re

import pytest
from ir_cases import DATA

from oorl.ir.build import c_to_ir_prompt, harness_for
from oorl.ir.config import IRBuildConfig
from oorl.ir.execute import Program, run_against, run_reference
from oorl.ir.normalize import normalize_ir, restore_header
from oorl.ir.replay import replay_group
from oorl.ir.schema import IRGroup
from oorl.ir.sources import from_c_files, from_problems
from oorl.ir.verify import verify_error
from oorl.jsonl import read_jsonl

GROUPS = read_jsonl(DATA / "groups.jsonl", IRGroup)
SOURCES = {
    s.id: s
    for s in [
        *from_problems(DATA / "problems.jsonl"),
        *from_c_files(sorted((DATA / "functions").glob("*.c"))),
    ]
}


def test_every_bundled_source_has_a_group():
    assert 10 <= len(SOURCES) <= 20
    assert sorted(g.id for g in GROUPS) == sorted(SOURCES)
    assert sum(s.kind == "functions" for s in SOURCES.values()) >= 2


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.id)
def test_bundled_group_shape(group):
    src = SOURCES[group.id]
    assert group.source == src.source and group.prompt == c_to_ir_prompt(src.source)
    assert group.provenance["source_sha256"] == hashlib.sha256(src.source.encode()).hexdigest()
    assert group.provenance["compiler"].startswith("Debian clang version 14.")
    assert len(group.winners) >= 2 and len({w.ir for w in group.winners}) == len(group.winners)
    assert len(group.losers) >= 2
    levels = [lv for w in group.winners for lv in w.opt_levels]
    assert len(levels) == len(set(levels)) and "O0" in levels
    winner_irs = {w.ir for w in group.winners}
    for ir in [w.ir for w in group.winners] + [lo.ir for lo in group.losers]:
        assert verify_error(ir) is None
        assert normalize_ir(ir)[0] == ir  # already normalised: no header, comments, attributes, metadata
        # clang-14's typed pointers only (clang >= 15 prints `ptr`)
        assert re.search(r"\bptr\b", ir.replace("getelementptr", "")) is None
    for lo in group.losers:
        assert lo.ir not in winner_irs and lo.from_opt_level in levels
        w = lo.witness
        assert (w.args is not None) == (src.kind == "functions")
        if w.kind == "output":
            assert w.observed != w.expected
        if w.stdin is not None:
            assert w.stdin in src.inputs


@pytest.mark.sandbox
@pytest.mark.parametrize("gid", ["ir-max", "fn-real"])
def test_bundled_witnesses_replay_and_winners_match_the_source(sandbox, gid):
    (group,) = [g for g in GROUPS if g.id == gid]
    assert replay_group(group, sandbox) == []
    harness = harness_for(SOURCES[gid], IRBuildConfig())
    inputs = harness.inputs
    ref = run_reference(sandbox, Program(group.source, "c", harness.driver), inputs, 1.0, 60)
    ref_out = [ref.outcomes[i] for i in range(len(inputs))]
    progs = [Program(restore_header(w.ir, group.exec), "ir", harness.driver) for w in group.winners]
    assert all(r.all_same and r.error is None for r in run_against(sandbox, progs, inputs, ref_out, 1.0, 60))
