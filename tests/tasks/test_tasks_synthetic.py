"""The synthetic generator: semantics, determinism, and every rendering judged in the sandbox."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from oorl.jsonl import read_jsonl
from oorl.tasks.cli import app
from oorl.tasks.schema import Problem
from oorl.tasks.synthetic.generate import LANGUAGES, candidates, verify
from oorl.tasks.synthetic.program import (
    SAFE,
    Abs,
    Assign,
    Bin,
    BoolOp,
    Cmp,
    Const,
    CountChar,
    Elem,
    FloorDiv,
    FloorMod,
    ForEach,
    If,
    Index,
    MinMax,
    Not,
    OutOfRange,
    Program,
    Repeat,
    StrLen,
    Var,
    interpret,
)
from oorl.tasks.synthetic.render import render_all

STDIN = "-7 5\n4\n-3 8 0 -11\nbanana\n"


def _prints(*exprs, reversed_=False) -> Program:
    return Program(locals=(("acc", 0),), body=(), outputs=exprs, print_reversed=reversed_)


def test_division_and_modulo_are_floored():
    p = _prints(FloorDiv(Var("x"), 2), FloorMod(Var("x"), 3), FloorMod(Var("y"), -3), FloorDiv(Var("y"), -2))
    assert interpret(p, STDIN) == "-4\n2\n-1\n-3\n"


def test_string_operations_and_reverse():
    p = _prints(StrLen(), CountChar("a"), CountChar("z"), reversed_=True)
    assert interpret(p, STDIN) == "6\n3\n0\nananab\n"


def test_intermediates_outside_32_bits_are_rejected():
    big = Bin("*", Bin("*", Const(SAFE // 2), Var("y")), Const(1))
    try:
        interpret(_prints(big), STDIN)
    except OutOfRange:
        pass
    else:
        raise AssertionError("a product beyond 2**31 must be rejected")


def test_generation_is_deterministic_for_a_seed():
    a, b, c = candidates(6, seed=7), candidates(6, seed=7), candidates(6, seed=8)
    assert [p.model_dump() for p in a] == [p.model_dump() for p in b]
    assert [p.solutions["python"] for p in a] != [p.solutions["python"] for p in c]
    assert all(set(p.solutions) == set(LANGUAGES) and len({t.expected for t in p.tests}) > 1 for p in a)


# One program that exercises every construct, with negative operands for / and %: all 13 renderings
# must print exactly what the interpreter prints.
EVERYTHING = Program(
    locals=(("acc", -3), ("best", 0), ("tally", 2)),
    body=(
        ForEach(
            "i",
            (
                Assign("acc", Bin("+", Var("acc"), FloorDiv(Elem("i"), -2))),
                If(
                    BoolOp("and", Cmp(">", Elem("i"), Var("best")), Not(Cmp("==", Index("i"), Const(2)))),
                    (Assign("best", Elem("i")),),
                    (Assign("tally", Bin("-", Var("tally"), FloorMod(Elem("i"), 3))),),
                ),
                Repeat(
                    "j", 2, (Assign("tally", Bin("+", Var("tally"), MinMax("min", Index("j"), Elem("i")))),)
                ),
            ),
        ),
        If(
            BoolOp("or", Cmp("<=", Var("x"), Const(-7)), Cmp("!=", CountChar("n"), StrLen())),
            (Assign("acc", Bin("*", Abs(Var("acc")), Const(-4))),),
        ),
        Assign("best", MinMax("max", FloorMod(Var("best"), -5), FloorDiv(Var("x"), 3))),
    ),
    outputs=(Var("acc"), Var("best"), Var("tally"), Bin("-", CountChar("a"), StrLen()), Const(-2)),
    print_reversed=True,
)


def test_every_rendering_agrees_on_a_program_with_every_construct(sandbox):
    stdins = [STDIN, "3 -9\n1\n-1\no\n", "0 0\n6\n5 -5 7 -7 2 -2\nsatinstone\n"]
    expected = [interpret(EVERYTHING, s) for s in stdins]
    assert expected[0] == "-4\n-2\n-26\n-3\n-2\nananab\n"  # worked by hand
    problem = Problem(
        id="everything",
        provenance={"dataset": "synthetic"},
        solutions=render_all(EVERYTHING),
        tests=[{"stdin": s, "expected": e} for s, e in zip(stdins, expected, strict=True)],
        checker={"mode": "exact"},
    )
    seconds = verify(sandbox, [problem])
    assert set(seconds) == set(LANGUAGES)


@pytest.mark.sandbox
def test_synth_cli_emits_problems_verified_in_all_languages(tmp_path):
    out = tmp_path / "synth.jsonl"
    result = CliRunner().invoke(
        app, ["synth", "--n", "3", "--seed", "0", "--out", str(out), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    problems = read_jsonl(out, Problem)
    assert len(problems) == 3 and all(set(p.solutions) == set(LANGUAGES) for p in problems)
    assert all(
        p.provenance.dataset == "synthetic" and p.checker.mode == "exact" and p.tests for p in problems
    )
    assert "verified problems" in result.output


@pytest.mark.sandbox
def test_synth_cli_reproduces_a_training_configs_corpus(tmp_path):
    """`--config`: exactly the problems a config's data.synthetic generates (how the bundled IR groups
    of the demo's corpus are rebuilt), here rendered and verified in C only."""
    from oorl.config import load_config
    from oorl.train.data import synthetic_problems

    config = tmp_path / "c.yaml"
    config.write_text("data:\n  synthetic:\n    problems: 4\n    seed: 3\n    n_stmts: 1\n    n_tests: 2\n")
    out = tmp_path / "synth.jsonl"
    result = CliRunner().invoke(
        app, ["synth", "--config", str(config), "--languages", "c", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    expected = synthetic_problems(load_config(config).data.synthetic)
    got = read_jsonl(out, Problem)
    assert [p.id for p in got] == [p.id for p in expected]
    assert [p.solutions for p in got] == [{"c": p.solutions["c"]} for p in expected]
    assert [p.tests for p in got] == [p.tests for p in expected]
