"""Hub loaders on local fixtures in the real schemas: same function, a local path instead of a hub id."""

from __future__ import annotations

import json
import shutil

import pytest

from oorl.jsonl import JsonlError
from oorl.tasks.apps import load_apps, load_taco
from oorl.tasks.hub import RowError
from oorl.tasks.sources import load_problems_jsonl, load_source
from oorl.tasks.synthetic1 import load_synthetic1, parse_serialized


def test_apps_stdio_and_call_based(fixtures_dir):
    problems = load_apps(str(fixtures_dir / "apps.jsonl"), split="test")
    by_id = {p.id: p for p in problems}
    stdio = by_id["apps/test/0"]
    assert [(t.stdin, t.expected) for t in stdio.tests] == [("1 2\n", "3\n"), ("-5 5\n", "0\n")]
    assert stdio.checker.mode == "apps" and stdio.solutions["python"].startswith("a, b = map(int")
    call = by_id["apps/test/1"]
    assert not call.tests and set(call.harness) == {"python"}
    assert call.harness["python"].declaration == "def total(xs):"
    assert call.provenance.dataset == "apps" and call.provenance.license == "MIT"
    # row 2 has no solutions but has tests: it loads, with no reference solution
    assert by_id["apps/test/2"].solutions == {}


def test_taco_loads_with_null_metadata(fixtures_dir):
    problems = load_taco(str(fixtures_dir / "taco.jsonl"), split="train")
    assert [p.id for p in problems] == ["taco/train/0", "taco/train/1"]
    assert problems[0].checker.mode == "tolerant" and len(problems[0].tests) == 2
    assert "python" in problems[1].harness and problems[1].provenance.difficulty == "MEDIUM"


def test_synthetic1_stdio_function_call_and_cpp(fixtures_dir):
    problems = {p.id: p for p in load_synthetic1(str(fixtures_dir / "verifiable-coding-problems.jsonl"))}
    assert (
        problems["synthetic-1/vfc_0"].solutions["python"]
        == "a, b = map(int, input().split())\nprint(a + b)\n"
    )
    assert "python" in problems["synthetic-1/vfc_1"].harness
    cpp = problems["synthetic-1/vfc_2"]
    assert set(cpp.solutions) == {"cpp"} and cpp.tests[0].expected == "3\n"


def test_serialized_fields_accept_json_and_python_literals():
    assert parse_serialized('{"a": [1, 2]}', "x", "f") == {"a": [1, 2]}
    assert parse_serialized("{'a': (1, 2), 'b': None}", "x", "f") == {"a": (1, 2), "b": None}
    with pytest.raises(RowError, match="x: field 'f'"):
        parse_serialized("{nope", "x", "f")


def _run_harness(sandbox, problem, code):
    return sandbox.judge(problem.request("python", code))


def test_call_based_harness_judges_like_apps(sandbox, fixtures_dir):
    problem = next(p for p in load_apps(str(fixtures_dir / "apps.jsonl")) if p.id == "apps/test/1")
    assert _run_harness(sandbox, problem, problem.solutions["python"]).accepted
    # a Solution class is called through an instance, as APPS does
    assert _run_harness(
        sandbox, problem, "class Solution:\n    def total(self, xs):\n        return sum(xs)\n"
    ).accepted
    wrong = _run_harness(sandbox, problem, "def total(xs):\n    return len(xs)\n")
    assert wrong.verdict.value == "wrong_answer"


def test_malformed_row_names_file_and_line(tmp_path, fixtures_dir):
    bad = tmp_path / "apps.jsonl"
    rows = (fixtures_dir / "apps.jsonl").read_text().splitlines()
    broken = json.loads(rows[1])
    del broken["input_output"]
    bad.write_text("\n".join([rows[0], json.dumps(broken), rows[2]]) + "\n")
    with pytest.raises(JsonlError, match=r"apps\.jsonl:2: field 'input_output': missing"):
        load_apps(str(bad))


def test_invalid_json_row_names_file_and_line(tmp_path, fixtures_dir):
    bad = tmp_path / "vcp.jsonl"
    shutil.copy(fixtures_dir / "verifiable-coding-problems.jsonl", bad)
    with bad.open("a") as f:
        f.write("{not json\n")
    with pytest.raises(JsonlError, match=r"vcp\.jsonl:4: not valid JSON"):
        load_synthetic1(str(bad))


def test_bad_input_output_names_the_row(tmp_path, fixtures_dir):
    bad = tmp_path / "taco.jsonl"
    row = json.loads((fixtures_dir / "taco.jsonl").read_text().splitlines()[0])
    row["input_output"] = "{broken"
    bad.write_text("\n" + json.dumps(row) + "\n")
    with pytest.raises(RowError, match=r"taco\.jsonl:2: field 'input_output': not valid JSON"):
        load_taco(str(bad))


def test_problem_jsonl_errors_name_line_and_field(tmp_path):
    path = tmp_path / "problems.jsonl"
    path.write_text('{"id": "a", "provenance": {"dataset": "x"}}\n{"provenance": {"dataset": "x"}}\n')
    with pytest.raises(JsonlError, match=r"problems\.jsonl:2: field 'id'"):
        load_problems_jsonl(path)


def test_unknown_source_lists_known_ones():
    with pytest.raises(ValueError, match="known sources: synthetic, humaneval-x"):
        load_source("codeforces")


def test_bundled_synthetic_set_is_what_seed_0_generates():
    # regenerate with `oorl data synth --n 24 --seed 0 --out src/oorl/data/synthetic/problems.jsonl`
    from oorl.tasks.synthetic.generate import candidates

    problems = load_source("synthetic")
    assert len(problems) == 24 and all(len(p.solutions) == 13 and p.tests for p in problems)
    assert [p.model_dump() for p in problems] == [p.model_dump() for p in candidates(24, 0)]
