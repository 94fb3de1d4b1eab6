"""Witnesses beyond doubt: planted mutants that must not become losers, and the rules that stop them.

A planted mutant is a C variant of the source compiled at -O0, handed to the builder in place of the
mutation operators' output, so each test controls exactly what the candidate does."""

import pytest
from ir_cases import FIXTURES

import oorl.ir.build as build
from oorl.ir.build import build_group
from oorl.ir.config import IRBuildConfig
from oorl.ir.execute import Outcome, Program, difference, run_against, run_reference
from oorl.ir.losers import search
from oorl.ir.mutate import Mutant
from oorl.ir.normalize import normalize_ir, restore_header
from oorl.ir.reference import (
    SanitizerUnavailable,
    available_sanitizers,
    probe_sanitizers,
    reference_behaviour,
)
from oorl.ir.replay import kind_holds, replay_group
from oorl.ir.schema import IRGroup, OperatorCounts, Site, Witness
from oorl.ir.sources import CSource
from oorl.ir.stats import collect
from oorl.ir.toolchain import compile_one
from oorl.jsonl import read_jsonl


def planted(variants: dict[str, str]) -> list[tuple[Mutant, str]]:
    """Each C variant as a candidate loser (its name in `site.before`), as if mutated from -O0."""
    out = []
    for name, source in variants.items():
        compiled = compile_one(source, "O0")
        assert compiled.ok, compiled.error
        site = Site(function="main", line=0, before=name, after=name)
        out.append((Mutant(normalize_ir(compiled.ir)[0], "const_perturb", site), "O0"))
    return out


def plant(monkeypatch, variants: dict[str, str]) -> None:
    queue = planted(variants)
    monkeypatch.setattr(build, "candidates", lambda *args, **kwargs: list(queue))


# The source sleeps 300 ms on input 1 (a fifth of the 1 s limit is 200 ms) and is fast on input 2.
SLEEPY = """#include <stdio.h>
#include <time.h>
#include <unistd.h>
static void pause_ms(long ms) { struct timespec t = {ms / 1000, (ms % 1000) * 1000000L}; nanosleep(&t, 0); }
int main(void) {
  long n;
  if (scanf("%ld", &n) != 1) return 1;
  if (n == 1) pause_ms(300);
  /* HOOK */
  printf("%ld\\n", n * n);
  return 0;
}
"""


def sleepy(hook: str = "", slow_ms: int = 300) -> str:
    return SLEEPY.replace("/* HOOK */", hook).replace("pause_ms(300)", f"pause_ms({slow_ms})")


@pytest.mark.sandbox
def test_slow_equivalent_and_flaky_mutants_are_never_losers(sandbox, monkeypatch):
    """Only the mutants that differ the same way every time, and hang where the source is fast, count."""
    plant(
        monkeypatch,
        {
            # equivalent, 10x slower where the source itself takes over a fifth of the limit
            "slow_equivalent": sleepy(slow_ms=3000),
            # hangs (then prints the right answer) on its first run only
            "flaky_hang": sleepy('if (n == 2 && access("h", F_OK) != 0) { fclose(fopen("h", "w")); pause_ms(3000); }'),
            # prints a wrong answer on its first run only
            "flaky_output": sleepy('if (n == 2 && access("o", F_OK) != 0) { fclose(fopen("o", "w")); n = 3; }'),
            "real_hang": sleepy("if (n == 2) pause_ms(3000);"),
            "real_output": sleepy("if (n == 2) n = 3;"),
        },
    )  # fmt: skip
    cfg = IRBuildConfig(min_losers=1, max_winners=2)
    group = build_group(CSource("sleepy", sleepy(), "program", ["2\n", "1\n"]), sandbox, cfg)
    assert isinstance(group, IRGroup), group
    kinds = {lo.site.before: lo.witness.kind for lo in group.losers}
    assert kinds == {"real_hang": "timeout", "real_output": "output"}
    assert all(lo.witness.stdin == "2\n" and lo.witness.runs == 3 for lo in group.losers)
    counts = group.provenance["operators"]["const_perturb"]
    assert (counts["executed"], counts["witnessed"]) == (5, 2)
    assert counts["unconfirmed"] == {"slow_source": 1, "not_reproduced": 2}
    assert group.provenance["witness_runs"] == 3 and group.provenance["inputs_dropped"] == {}


# Input 5 indexes past the array (UBSan, ASan); input 7 prints an uninitialised int (MSan).
UB = """#include <stdio.h>
int main(void) {
  int k, u, a[4] = {1, 2, 3, 4};
  if (scanf("%d", &k) != 1) return 1;
  if (k == 7) printf("%d\\n", u);
  else printf("%d\\n", a[k]);
  return 0;
}
"""
UB_INPUTS = ["0\n", "2\n", "5\n", "7\n"]


@pytest.mark.sandbox
def test_witness_on_undefined_behaviour_is_never_a_loser(sandbox, monkeypatch):
    """A mutant that differs from the source only where the source's behaviour is undefined is a
    correct compilation of it, not a loser: those inputs are dropped before any mutant runs."""
    if "memory" not in available_sanitizers(sandbox):
        pytest.skip("MemorySanitizer cannot start in this sandbox (memory bounded by RLIMIT_AS)")
    plant(
        monkeypatch,
        {
            "defined_where_source_is_not": UB.replace('printf("%d\\n", u)', 'puts("0")').replace(
                "a[k])", "k < 4 ? a[k] : 12345)"
            ),
            "real_output": UB.replace("a[k])", "a[k] + 1)"),
        },
    )
    group = build_group(CSource("ub", UB, "program", UB_INPUTS), sandbox, IRBuildConfig(min_losers=1))
    assert isinstance(group, IRGroup), group
    assert [lo.site.before for lo in group.losers] == ["real_output"]
    assert group.losers[0].witness.stdin in ("0\n", "2\n")
    assert group.provenance["inputs"] == 2 and group.provenance["inputs_dropped"] == {"undefined": 2}
    assert group.provenance["sanitizers"] == ["address,undefined", "memory"]


@pytest.mark.sandbox
def test_reference_drops_undefined_and_nondeterministic_inputs(sandbox):
    clocky = UB.replace("if (k == 7)", "if (k == 9) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); "
                        'printf("%ld\\n", t.tv_nsec); } else if (k == 7)').replace("<stdio.h>", "<stdio.h>\n#include <time.h>")  # fmt: skip
    ref = reference_behaviour(sandbox, Program(clocky, "c"), [*UB_INPUTS, "9\n"], 1.0, 60)
    sanitizers = available_sanitizers(sandbox)
    assert ref.sanitizers == sanitizers and "undefined" in sanitizers[0]
    assert (ref.outcomes[0], ref.outcomes[1]) == (Outcome(0, "1\n"), Outcome(0, "3\n"))
    assert all(0 < o.seconds < 1.0 for o in ref.outcomes.values())
    expected = {2: "undefined", 3: "undefined", 4: "nondeterministic"}
    if "memory" not in sanitizers:  # only MSan names input 7's read of uninitialised memory
        del expected[3]
        ref.dropped.pop(3, None)
    assert ref.dropped == expected


ECHO = '#include <stdio.h>\nint main(void) { int n; if (scanf("%d", &n) != 1) return 1; /* HOOK */ printf("%d\\n", n + 1); return 0; }\n'


@pytest.mark.sandbox
def test_exit_code_witnesses_are_marked_and_kept_only_when_asked(sandbox):
    inputs = ["1\n", "5\n"]
    ref = run_reference(sandbox, Program(ECHO, "c"), inputs, 1.0, 30)
    ref_out = [ref.outcomes[i] for i in range(len(inputs))]
    info = normalize_ir(compile_one(ECHO, "O0").ir)[1]
    queue = planted({
        "exit_code": ECHO.replace("return 0;", "return n == 5 ? 3 : 0;"),
        "output": ECHO.replace("/* HOOK */", "if (n == 5) n = 0;"),
        "crash": ECHO.replace("/* HOOK */", "if (n == 5) __builtin_trap();"),
    })  # fmt: skip

    def losers(**cfg):
        counts = {"const_perturb": OperatorCounts()}
        found, executed = search(
            sandbox, list(queue), lambda ir: Program(restore_header(ir, info), "ir"), inputs, ref_out,
            lambda i: {"stdin": inputs[i]}, IRBuildConfig(**cfg), counts, batch=3,
        )  # fmt: skip
        assert executed == 3 and counts["const_perturb"].kinds == {"exit_code": 1, "output": 1, "crash": 1}
        return {lo.site.before: lo.witness for lo in found}

    kept = losers()
    assert sorted(kept) == ["crash", "output"]  # exit_code witnesses are off by default
    assert kept["crash"].kind == "crash" and kept["output"].kind == "output"
    kept = losers(exit_code_losers=True)
    w = kept["exit_code"]
    assert (w.kind, w.stdin, w.expected, w.observed, w.runs) == ("exit_code", "5\n", "6\n", "6\n", 3)


@pytest.mark.sandbox
def test_reruns_tell_a_reproducible_difference_from_a_flaky_one(sandbox):
    ref = [Outcome(0, "2\n")]
    flaky = ECHO.replace("/* HOOK */", 'if (fopen("seen", "r") == 0) { fclose(fopen("seen", "w")); n = 7; }')
    wrong = ECHO.replace("n + 1", "n + 2")
    runs = run_against(sandbox, [Program(flaky, "c"), Program(wrong, "c")], ["1\n"], ref, 1.0, 30, reruns=2)
    assert [r.outcomes for r in runs] == [{0: Outcome(0, "8\n")}, {0: Outcome(0, "3\n")}]
    assert [len(r.reruns[0]) for r in runs] == [2, 2]
    assert not runs[0].reproduced(0) and runs[1].reproduced(0)


@pytest.mark.parametrize(
    ("observed", "kind"),
    [
        (Outcome(0, "6\n"), None),
        (Outcome(3, "6\n"), "exit_code"),  # same stdout, main returned something else
        (Outcome(3, "7\n"), "output"),
        (Outcome(134, "6\n"), "crash"),  # SIGABRT
        (Outcome(124, "6\n"), "timeout"),
    ],
)
def test_difference_kinds(observed, kind):
    assert difference(observed, Outcome(0, "6\n")) == kind


def test_witness_schema_marks_exit_codes_and_loads_older_records():
    w = Witness(stdin="5\n", expected="6\n", observed="6\n", kind="exit_code", runs=3)
    assert Witness.model_validate_json(w.model_dump_json()) == w
    old = Witness.model_validate({"stdin": "1\n", "expected": "a", "observed": "", "kind": "crash"})
    assert old.runs == 1
    legacy, rebuilt = (
        IRGroup.model_construct(provenance={}),
        IRGroup.model_construct(provenance={"witness_runs": 3}),
    )
    assert kind_holds(legacy, "crash", "exit_code") and not kind_holds(legacy, "crash", "timeout")
    assert not kind_holds(rebuilt, "crash", "exit_code") and kind_holds(rebuilt, "exit_code", "exit_code")


@pytest.mark.sandbox
def test_asan_and_msan_give_way_to_ubsan_alone_where_the_address_space_is_bounded(sandbox):
    """Without a memory cgroup the sandbox bounds memory with RLIMIT_AS (1 GB + headroom for bash):
    ASan's and MSan's shadow memory cannot be reserved there, UBSan still runs."""
    assert available_sanitizers(sandbox) == ("address,undefined", "memory")  # this machine: a memory cgroup
    assert probe_sanitizers(sandbox, setup=f"ulimit -v {1088 * 1024}\n") == ("undefined",)
    with pytest.raises(SanitizerUnavailable, match="libclang-rt-14-dev"):  # not even clang starts
        probe_sanitizers(sandbox, setup=f"ulimit -v {16 * 1024}\n")


@pytest.mark.sandbox
def test_groups_built_before_these_rules_still_load_count_and_replay(sandbox):
    """A group from the earlier format: witnesses seen once, an exit-code-only loser called a crash."""
    old = FIXTURES / "groups-before-witness-runs.jsonl"
    (group,) = read_jsonl(old, IRGroup)
    assert [lo.witness.runs for lo in group.losers] == [1, 1, 1, 1]
    crash = group.losers[0].witness
    assert (crash.kind, crash.expected, crash.observed) == (
        "crash",
        "1\n",
        "1\n",
    )  # only the exit status differs
    assert collect(old).groups == 1
    assert replay_group(group, sandbox) == []


@pytest.mark.sandbox
def test_a_hang_is_rerun_only_where_it_could_count(sandbox):
    hang = ECHO.replace("/* HOOK */", "for (;;) {}")
    ref = [Outcome(0, "2\n")]
    runs = [
        run_against(sandbox, [Program(hang, "c")], ["1\n"], ref, 0.3, 30, reruns=2, rerun_hangs=hangs)[0]
        for hangs in (None, [])
    ]
    assert all(r.outcomes[0].timed_out for r in runs)
    assert len(runs[0].reruns[0]) == 2 and runs[0].reproduced(0)
    assert runs[1].reruns == {}  # the source is slow there: no rerun could make it a witness
