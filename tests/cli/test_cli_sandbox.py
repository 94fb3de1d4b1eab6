"""The sandbox and judge commands through the real CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oorl.cli import app
from oorl.jsonl import read_jsonl, write_jsonl
from oorl.sandbox import StdioTest
from oorl.tasks.schema import Problem, Provenance

runner = CliRunner()


@pytest.mark.sandbox
def test_sandbox_run_json(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("import sys\nprint(sys.stdin.read().upper())")
    stdin = tmp_path / "in.txt"
    stdin.write_text("hi")
    result = runner.invoke(
        app, ["sandbox", "run", "--lang", "py", str(prog), "--stdin", str(stdin), "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["verdict"] == "accepted" and record["exit_code"] == 0 and record["stdout"] == "HI\n"
    assert {"stderr", "time_s"} <= record.keys()


@pytest.mark.sandbox
def test_sandbox_run_nonzero_exit_is_runtime_error(tmp_path):
    prog = tmp_path / "p.sh"
    prog.write_text("echo oops >&2\nexit 4")
    result = runner.invoke(app, ["sandbox", "run", "--lang", "bash", str(prog), "--json"])
    assert result.exit_code == 1
    record = json.loads(result.stdout)
    assert record["verdict"] == "runtime_error" and record["exit_code"] == 4 and record["stderr"] == "oops\n"


@pytest.mark.sandbox
def test_sandbox_run_harness_needs_the_program_to_reach_its_end(tmp_path):
    prog = tmp_path / "t.py"
    prog.write_text("import os\ndef add(a, b):\n    os._exit(0)\nassert add(2, 3) == 5\n")
    plain = runner.invoke(app, ["sandbox", "run", "--lang", "python", str(prog), "--json"])
    harness = runner.invoke(app, ["sandbox", "run", "--lang", "python", str(prog), "--harness", "--json"])
    assert plain.exit_code == 0 and json.loads(plain.stdout)["verdict"] == "accepted"
    assert harness.exit_code == 1 and json.loads(harness.stdout)["verdict"] == "wrong_answer"


def test_sandbox_run_help_states_the_whole_rule():
    result = runner.invoke(app, ["sandbox", "run", "--help"])
    assert result.exit_code == 0
    assert "--harness" in result.output and "wrong_answer" in result.output


def test_doctor_reports_the_seccomp_filter_and_cpu_budget():
    result = runner.invoke(app, ["doctor"])
    assert "system calls: seccomp filter" in result.output
    assert "CPU time:" in result.output


@pytest.mark.sandbox
def test_sandbox_run_time_limit(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text("while True: pass")
    result = runner.invoke(app, ["sandbox", "run", "--lang", "python", str(prog), "--timeout", "1", "--json"])
    assert json.loads(result.stdout)["verdict"] == "time_limit"


def test_unknown_language_lists_known_ones(tmp_path):
    prog = tmp_path / "p.cob"
    prog.write_text("DISPLAY 'HI'.")
    result = runner.invoke(app, ["sandbox", "run", "--lang", "cobol", str(prog)])
    assert result.exit_code == 2
    assert "unknown language 'cobol'" in result.stderr and "haskell (hs)" in result.stderr


def test_empty_and_non_utf8_programs_are_clear_errors(tmp_path):
    empty = tmp_path / "e.py"
    empty.write_text("\n \n")
    result = runner.invoke(app, ["sandbox", "run", "--lang", "python", str(empty)])
    assert result.exit_code == 2 and "is empty" in result.stderr
    binary = tmp_path / "b.py"
    binary.write_bytes(b"print('\xff')")
    result = runner.invoke(app, ["sandbox", "run", "--lang", "python", str(binary)])
    assert result.exit_code == 2 and "not UTF-8" in result.stderr


def _problem_file(tmp_path):
    problem = Problem(
        id="add",
        provenance=Provenance(dataset="test"),
        tests=[StdioTest(stdin="1 2\n", expected="3\n"), StdioTest(stdin="5 5\n", expected="10\n")],
    )
    path = tmp_path / "problems.jsonl"
    write_jsonl(path, [problem])
    return path


@pytest.mark.sandbox
def test_judge_writes_results_and_a_summary(tmp_path):
    problems = _problem_file(tmp_path)
    solutions = tmp_path / "solutions.jsonl"
    write_jsonl(
        solutions,
        [
            {
                "problem_id": "add",
                "language": "python",
                "code": "a, b = map(int, input().split())\nprint(a + b)",
            },
            {"problem_id": "add", "language": "c++", "code": '#include <cstdio>\nint main(){puts("3");}'},
        ],
    )
    out = tmp_path / "results.jsonl"
    result = runner.invoke(
        app, ["judge", "--problems", str(problems), "--solutions", str(solutions), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["language"], r["verdict"], r["passed"], r["total"]) for r in rows] == [
        ("python", "accepted", 2, 2),
        ("cpp", "wrong_answer", 1, 2),
    ]
    assert rows[1]["tests"][1]["stdout"] == "3\n" and rows[1]["tests"][1]["expected"] == "10\n"
    assert "verdicts per language" in result.stdout


def test_judge_malformed_line_names_file_and_line(tmp_path):
    problems = _problem_file(tmp_path)
    solutions = tmp_path / "solutions.jsonl"
    solutions.write_text(
        '{"problem_id": "add", "language": "python", "code": "print(3)"}\n{"problem_id": "add",\n'
    )
    result = runner.invoke(
        app,
        [
            "judge",
            "--problems",
            str(problems),
            "--solutions",
            str(solutions),
            "--out",
            str(tmp_path / "r.jsonl"),
        ],
    )
    assert result.exit_code == 2
    assert f"{solutions}:2: not valid JSON" in result.stderr
    assert not (tmp_path / "r.jsonl").exists()
    assert read_jsonl(problems, Problem)[0].id == "add"  # the inputs are untouched


@pytest.mark.sandbox
def test_doctor_lists_every_language():
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("python", "haskell", "rust", "csharp", "memory limit: cgroup"):
        assert name in result.stdout
