"""Group building end to end in the sandbox: the equivalence trap, skips with reasons, function-level sources."""

import pytest
from ir_cases import MAX_INPUTS, MAX_LOOP

from oorl.ir.build import build_group, c_to_ir_prompt
from oorl.ir.config import IRBuildConfig
from oorl.ir.execute import Program, run_against, run_reference
from oorl.ir.mutate import mutants
from oorl.ir.normalize import restore_header
from oorl.ir.replay import replay_group
from oorl.ir.schema import IRGroup, Skipped
from oorl.ir.sources import CSource
from oorl.ir.verify import verify_error


@pytest.mark.sandbox
def test_really_equivalent_mutant_is_never_a_loser(sandbox, max_ir_o0):
    """`x > best` -> `x >= best` in a max loop prints the same maximum: no input can witness it."""
    ir, info = max_ir_o0
    (trap,) = [m for m in mutants(ir, ["icmp_boundary"]) if "icmp sgt" in m.site.before]
    assert "icmp sge" in trap.site.after and verify_error(trap.ir) is None
    ref = run_reference(sandbox, Program(MAX_LOOP, "c"), MAX_INPUTS, 1.0, 30)
    ref_out = [ref.outcomes[i] for i in range(len(MAX_INPUTS))]
    (run,) = run_against(
        sandbox, [Program(restore_header(trap.ir, info), "ir")], MAX_INPUTS, ref_out, 1.0, 30
    )
    assert run.error is None and run.all_same

    cfg = IRBuildConfig(
        operators=["icmp_boundary"], min_losers=1, max_losers=8, max_mutants_run=40, max_winners=2
    )
    group = build_group(CSource("max", MAX_LOOP, "program", MAX_INPUTS), sandbox, cfg)
    assert isinstance(group, IRGroup), group
    assert not any(lo.site.before == trap.site.before and lo.from_opt_level == "O0" for lo in group.losers)
    counts = group.provenance["operators"]["icmp_boundary"]
    assert counts["executed"] == counts["valid"]  # every candidate ran, the trap included
    assert counts["executed"] > counts["witnessed"]  # the survivors were run and not kept


OVERFLOW = (
    '#include <stdio.h>\nint main(void) { int x; scanf("%d", &x); puts(x + 1 > x ? "yes" : "no"); return 0; }'
)


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("source", "inputs", "cfg", "reason"),
    [
        ("int main( {", ["\n"], {}, "compile_error"),
        ("int main(void) { for (;;) {} }", ["\n"], {"input_timeout_s": 0.3}, "source_timeout"),
        ('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }', [], {}, "no_inputs"),
        ('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }', ["\n"],
         {"operators": ["phi_swap"], "min_winners": 1}, "no_valid_mutant"),
        # signed overflow is undefined: UBSan drops the input, so no input is left to tell IRs apart...
        (OVERFLOW, ["2147483647\n"], {}, "source_undefined"),
        # ...and unchecked, -O0 wraps while -O1 folds `x + 1 > x` to true: the levels disagree
        (OVERFLOW, ["2147483647\n"], {"sanitize": False}, "winners_disagree"),
    ],
)  # fmt: skip
def test_sources_without_a_group_are_skipped_with_a_reason(sandbox, source, inputs, cfg, reason):
    result = build_group(CSource("s", source, "program", inputs), sandbox, IRBuildConfig(**cfg))
    assert isinstance(result, Skipped)
    assert result.reason == reason, result


FUNCS = """int clamp(int x, int lo, int hi) { if (x < lo) return lo; if (x > hi) return hi; return x; }
int tri(int n) { int s = 0; for (int i = 1; i <= n; i++) s += i; return s; }
"""


@pytest.mark.sandbox
def test_function_level_group_witnesses_replay(sandbox):
    cfg = IRBuildConfig(function_inputs=12, max_losers=3)
    group = build_group(CSource("fn-small", FUNCS, "functions"), sandbox, cfg)
    assert isinstance(group, IRGroup), group
    assert group.prompt == c_to_ir_prompt(FUNCS) and "```c\nint clamp" in group.prompt
    assert 2 <= len(group.winners) <= 4 and len({w.ir for w in group.winners}) == len(group.winners)
    assert group.winners[0].opt_levels[0] == "O0"
    assert sorted(lv for w in group.winners for lv in w.opt_levels) == sorted(
        ["O0", "O1", "O2", "O3", "Os", "Oz"]
    )
    assert len(group.losers) == 3
    for lo in group.losers:
        assert lo.witness.args is not None and lo.witness.args[0] in ("clamp", "tri")
        assert lo.witness.expected != lo.witness.observed or lo.witness.kind != "output"
        assert verify_error(lo.ir) is None and lo.ir not in {w.ir for w in group.winners}
    prov = group.provenance
    assert prov["compiler"].startswith("Debian clang version 14") and len(prov["source_sha256"]) == 64
    assert group.exec.triple == "x86_64-pc-linux-gnu" and group.exec.datalayout

    assert replay_group(group, sandbox) == []
    # a "loser" that is really the source's own IR no longer holds its witness
    fake = group.model_copy(deep=True)
    fake.losers[0].ir = group.winners[-1].ir
    problems = replay_group(fake, sandbox)
    assert len(problems) == 1 and "behaves like the source" in problems[0]


def test_config_rejects_inconsistent_sizes_and_unknown_operators():
    with pytest.raises(ValueError, match="min_losers"):
        IRBuildConfig(min_losers=5, max_losers=4)
    with pytest.raises(ValueError, match="unknown mutation operators.*known"):
        IRBuildConfig(operators=["phi_incoming_swap"])


@pytest.mark.sandbox
def test_ir_length_cap_drops_long_winners():
    """`max_ir_chars` keeps sequences short for tiny models; too few winners left skips the source."""
    from oorl.ir.winners import winners_for

    item = CSource("max", MAX_LOOP, "program", MAX_INPUTS)
    winners, info = winners_for(item, IRBuildConfig())
    longest = max(len(w.ir) for w in winners)
    capped, _ = winners_for(item, IRBuildConfig(max_ir_chars=longest - 1))
    assert len(capped) == len(winners) - 1 and all(len(w.ir) < longest for w in capped)
    assert info.triple == "x86_64-pc-linux-gnu"
    skipped = winners_for(item, IRBuildConfig(max_ir_chars=10))
    assert isinstance(skipped, Skipped) and skipped.reason == "too_few_winners"


def test_resume_skips_built_and_skipped_ids_but_retries_infrastructure_failures(tmp_path):
    from oorl.ir.build import done_ids
    from oorl.jsonl import write_jsonl

    out = tmp_path / "g.jsonl"
    write_jsonl(out, [{"id": "built"}])
    write_jsonl(tmp_path / "g.skipped.jsonl", [Skipped(id="broken", reason="compile_error"),
                                               Skipped(id="flaky", reason="sandbox_error")])  # fmt: skip
    assert done_ids(out) == {"built", "broken"}
    assert done_ids(out, include_skipped=False) == {"built"}


def test_max_winners_keeps_the_most_levels_then_the_most_distinct():
    from oorl.ir.schema import Winner
    from oorl.ir.winners import most_distinct

    body = [f"  %v{i} = add i32 %x, {i}" for i in range(10)]
    o0 = Winner(ir="\n".join(["define i32 @f() {", *body, "}"]), opt_levels=["O0"])
    o1 = Winner(ir="\n".join(["define i32 @f() {", *body[:3], "}"]), opt_levels=["O1"])
    o2 = Winner(ir="\n".join(["define i32 @f() {", *body[:2], "}"]), opt_levels=["O2", "O3"])
    oz = Winner(ir="\n".join(["define i32 @f() {", "  ret i32 0", "}"]), opt_levels=["Oz"])
    ws = [o0, o1, o2, oz]
    # O1 is a near copy of O2/O3, which stands for two levels: O1 goes, not Oz (the last in level order)
    assert most_distinct(ws, 3) == [o0, o2, oz]
    assert most_distinct(ws, 2) == [o0, o2]  # O2/O3 covers the most levels; O0 is the farthest from it
    assert most_distinct(ws, 4) == ws and most_distinct(ws, 9) == ws


@pytest.mark.sandbox
def test_max_winners_drops_the_level_nearest_another_on_real_ir():
    from oorl.ir.winners import winners_for

    item = CSource("max", MAX_LOOP, "program", MAX_INPUTS)
    all_winners, _ = winners_for(item, IRBuildConfig(max_winners=6))
    assert [w.opt_levels for w in all_winners] == [["O0"], ["O1"], ["O2", "O3", "Os"], ["Oz"]]
    kept, _ = winners_for(item, IRBuildConfig(max_winners=3))
    assert [w.opt_levels for w in kept] == [["O0"], ["O2", "O3", "Os"], ["Oz"]]  # -O1 ~ -O2, dropped
