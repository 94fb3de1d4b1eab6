"""Task-set building: pairs, de-duplication, split by problem, the MultiPL-E license gate, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from oorl.jsonl import read_jsonl, write_jsonl
from oorl.tasks.build import SplitTask, build_tasks, code_hash, pair_counts
from oorl.tasks.cli import app
from oorl.tasks.schema import Harness, Problem, Provenance
from oorl.tasks.translation import EvalOnlyError, make_tasks, parse_pairs


def _problem(pid: str, py: str, cpp: str | None = None, eval_only: bool = False) -> Problem:
    sols = {"python": py} | ({"cpp": cpp} if cpp else {})
    return Problem(
        id=pid,
        provenance=Provenance(dataset="t", eval_only=eval_only),
        solutions=sols,
        tests=[{"stdin": "", "expected": "1"}],
    )


def test_parse_pairs_canonicalises_and_rejects_garbage():
    assert parse_pairs("py:c++, cpp:java") == [("python", "cpp"), ("cpp", "java")]
    with pytest.raises(ValueError, match="SOURCE:TARGET"):
        parse_pairs("python-cpp")
    with pytest.raises(ValueError, match="known languages"):
        parse_pairs("python:cobol")


def test_tasks_need_a_source_solution_and_a_judgeable_target():
    harness_only = Problem(
        id="h",
        provenance=Provenance(dataset="t"),
        solutions={"python": "x"},
        harness={"python": Harness(tests="")},
    )
    tasks = make_tasks([_problem("a", "print(1)"), harness_only], [("python", "cpp"), ("cpp", "python")])
    # "a" has stdio tests (any target) but no C++ source; "h" can only judge Python
    assert [t.id for t in tasks] == ["a:python->cpp"]


def test_code_hash_ignores_whitespace_layout_only():
    assert code_hash("a = 1\n\n\nprint( a )\n") == code_hash("  a   =   1\nprint( a )")
    assert code_hash("a = 1") != code_hash("a = 2")


def test_duplicates_are_dropped_and_kept_on_one_side():
    problems = [_problem(f"p{i}", f"print({i})") for i in range(20)]
    problems += [
        _problem("copy-of-p3", "print(3)\n\n"),
        _problem("p0", "print(0)"),
    ]  # a reformatted copy, a repeated id
    tasks = build_tasks(problems, [("python", "cpp")], test_fraction=0.25, seed=1)
    assert len(tasks) == 20 and len({t.id for t in tasks}) == 20
    assert "copy-of-p3:python->cpp" not in {t.id for t in tasks}
    test_ids = {t.problem.id for t in tasks if t.split == "test"}
    assert len(test_ids) == 5  # round(0.25 * 20 groups)
    assert build_tasks(problems, [("python", "cpp")], test_fraction=0.25, seed=1) == tasks  # deterministic


def test_split_is_by_problem_across_pairs():
    problems = [_problem(f"p{i}", f"print({i})", f"int main(){{return {i};}}") for i in range(30)]
    tasks = build_tasks(problems, [("python", "cpp"), ("cpp", "python")], test_fraction=0.2, seed=0)
    sides: dict[str, set[str]] = {}
    for t in tasks:
        sides.setdefault(t.problem.id, set()).add(t.split)
    assert all(len(s) == 1 for s in sides.values())
    counts = pair_counts(tasks)
    assert counts[("python", "cpp")]["test"] == counts[("cpp", "python")]["test"] == 6


def test_eval_only_problems_are_refused_with_the_license():
    problems = [_problem("ok", "print(1)"), _problem("HumanEval_0_x", "print(2)", eval_only=True)]
    with pytest.raises(EvalOnlyError, match="Machine Learning Restriction") as err:
        build_tasks(problems, [("python", "cpp")])
    assert "HumanEval_0_x" in str(err.value) and "training data" in str(err.value)


def test_build_cli_writes_tasks_and_prints_counts(tmp_path):
    src = tmp_path / "problems.jsonl"
    write_jsonl(src, [_problem(f"p{i}", f"print({i})") for i in range(10)])
    out = tmp_path / "tasks.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "build",
            "--source",
            f"jsonl:{src}",
            "--source",
            "humaneval-x",
            "--pairs",
            "python:cpp,python:java",
            "--out",
            str(out),
            "--test-fraction",
            "0.1",
        ],
    )
    assert result.exit_code == 0, result.output
    tasks = read_jsonl(out, SplitTask)
    per_pair = pair_counts(tasks)
    assert sum(per_pair[("python", "cpp")].values()) == 10 + 164  # stdio problems judge any target
    assert sum(per_pair[("python", "java")].values()) == 10 + 164
    assert "python" in result.output and "java" in result.output


def test_build_cli_refuses_multipl_e(tmp_path):
    src = tmp_path / "multipl_e.jsonl"
    write_jsonl(
        src,
        [
            Problem(
                id="HumanEval_0_has_close_elements",
                provenance=Provenance(dataset="multipl-e", eval_only=True),
                solutions={"python": "x"},
                harness={"cpp": Harness(tests="")},
            )
        ],
    )
    result = CliRunner().invoke(
        app,
        ["build", "--source", f"jsonl:{src}", "--pairs", "python:cpp", "--out", str(tmp_path / "t.jsonl")],
    )
    assert result.exit_code == 2 and "Machine Learning Restriction" in result.output
    assert not (tmp_path / "t.jsonl").exists()


def test_build_cli_refuses_the_real_multipl_e_records(tmp_path):
    data = Path(__file__).parents[1] / "data" / "multipl-e"
    result = CliRunner().invoke(
        app,
        [
            "build",
            "--source",
            f"multipl-e:{data}",
            "--pairs",
            "python:cpp",
            "--out",
            str(tmp_path / "t.jsonl"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "Machine Learning Restriction" in result.output and "training data" in result.output
    assert not (tmp_path / "t.jsonl").exists()
