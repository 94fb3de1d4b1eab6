"""JSONL I/O: a malformed row names its file and line; writes are atomic."""

import pytest

from oorl.jsonl import JsonlError, read_jsonl, write_jsonl
from oorl.tasks.schema import Problem, Solution


def test_round_trip(tmp_path):
    path = tmp_path / "s.jsonl"
    rows = [Solution(problem_id="p1", language="py", code="print(1)")]
    assert write_jsonl(path, rows) == 1
    back = read_jsonl(path, Solution)
    assert back == [Solution(problem_id="p1", language="python", code="print(1)")]


def test_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"problem_id": "a", "language": "c", "code": "x"}\n\n{"problem_id": \n')
    with pytest.raises(JsonlError) as e:
        read_jsonl(path, Solution)
    assert str(e.value).startswith(f"{path}:3: not valid JSON")


def test_missing_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"problem_id": "a", "language": "c"}\n')
    with pytest.raises(JsonlError, match=r"bad\.jsonl:1: field 'code': Field required"):
        read_jsonl(path, Solution)


def test_unknown_language_in_a_row_lists_known_ones(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"problem_id": "a", "language": "cobol", "code": "x"}\n')
    with pytest.raises(JsonlError, match=r":1: field 'language': .*unknown language 'cobol'.*python"):
        read_jsonl(path, Solution)


def test_unknown_fields_are_ignored(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"id": "x", "provenance": {"dataset": "d"}, "extra": 1, "tests": [{"stdin": "", "expected": "1"}]}\n'
    )
    (problem,) = read_jsonl(path, Problem)
    assert problem.id == "x" and problem.tests[0].expected == "1"


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "s.jsonl"
    write_jsonl(path, [{"a": 1}])

    def rows():
        yield {"a": 2}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, rows())
    assert path.read_text() == '{"a": 1}\n'
