import pytest
from ir_cases import FIXTURES

from oorl.ir.sources import from_c_files, from_problems, from_sltrans, generic_stdin
from oorl.jsonl import JsonlError


def test_problems_give_c_solutions_with_their_test_inputs():
    items = list(from_problems(FIXTURES / "problems.jsonl"))
    assert [i.id for i in items] == ["fx-gcd", "fx-min3"]  # the Python-only problem has no C source
    gcd = items[0]
    assert gcd.kind == "program" and "while (b != 0)" in gcd.source
    assert gcd.inputs[0] == "12 18\n" and gcd.expected[0] == "6\n" and len(gcd.inputs) == len(gcd.expected)
    assert len(gcd.sha256) == 64


def test_malformed_problem_row_names_file_and_line(tmp_path):
    bad = tmp_path / "p.jsonl"
    bad.write_text((FIXTURES / "problems.jsonl").read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(JsonlError, match=r"p\.jsonl:2: not valid JSON"):
        list(from_problems(bad))


def test_c_files_are_function_level_sources(tmp_path):
    f = tmp_path / "ops.c"
    f.write_text("int twice(int x) { return 2 * x; }\n")
    (item,) = from_c_files([f])
    assert item.id == "fn-ops" and item.kind == "functions" and item.inputs == []
    with pytest.raises(FileNotFoundError, match="missing.c"):
        list(from_c_files([tmp_path / "missing.c"]))


def test_sltrans_rows_keep_the_dataset_ir_as_a_candidate_winner(tmp_path):
    for split, label in (("Perf_Optimized", "sltrans-O3"), ("Size_Optimized", "sltrans-Oz")):
        (item,) = from_sltrans(
            [str(FIXTURES / f"sltrans-C-{split}.jsonl")], split=split, cache_dir=str(tmp_path)
        )
        assert item.kind == "program" and "scanf" in item.source
        assert list(item.extra_winners) == [label] and "define" in item.extra_winners[label]
        assert item.id.startswith(f"sltrans-C-{split}-") and item.origin["license"] == "cc-by-sa-4.0"
        assert item.inputs == generic_stdin(8, seed=0)
    assert all(s.split("\n")[0].isdigit() for s in generic_stdin(5, seed=1))
