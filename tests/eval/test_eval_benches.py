"""Benches as data: what the model is asked, how answers are cut and assembled (no sandbox)."""

import pytest

from oorl.eval.backends import ReferenceBackend, ShuffledBackend, make_generator
from oorl.eval.benches import (
    MULTIPL_E_DEFAULT,
    cut_humaneval_x,
    load_bench,
    parse_directions,
)
from oorl.eval.defects import HUMANEVAL_X_DEFECTS
from oorl.eval.run import RunSettings
from oorl.sandbox.types import JudgeRequest
from oorl.tasks.answers import extract_code


@pytest.fixture(scope="module")
def translation():
    return load_bench("translate-humaneval-x")


def test_translation_matrix_covers_20_directions_of_164_problems(translation):
    directions = {i.key for i in translation.items}
    assert len(directions) == 20 and "python->go" in directions and "go->python" in directions
    for d in directions:
        judged = sum(i.key == d for i in translation.items)
        excluded = sum(e["key"] == d for e in translation.excluded)
        assert judged + excluded == 164, d
    # every JavaScript direction leaves out the broken canonical solution of HumanEval/112, either way
    js = [e for e in translation.excluded if e["problem_id"] == "HumanEval/112"]
    assert {e["key"] for e in js} == {d for d in directions if "javascript" in d}
    assert all("javascript:" in e["reason"] for e in js)


def test_translation_prompt_shows_source_declaration_solution_and_target_declaration(translation):
    item = next(i for i in translation.items if i.key == "python->cpp" and i.problem_id == "HumanEval/0")
    assert item.chat and item.source == "python" and item.language == "cpp"
    assert item.prompt.startswith("Translate the following Python code into C++.")
    assert (
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n    for idx" in item.prompt
    )
    assert '"""' not in item.prompt  # the declaration, not the docstring prompt
    assert "bool has_close_elements(vector<float> numbers, float threshold){" in item.prompt
    assert "exactly one fenced code block (```cpp" in item.prompt
    # the reference answer is well-formed under the training reward's format rule
    assert extract_code(item.reference, "cpp").format_ok


def test_defect_list_is_the_single_source(translation):
    excluded = {(e["problem_id"], e["key"]) for e in translation.excluded}
    for d in HUMANEVAL_X_DEFECTS:
        if d.language in ("python", "cpp", "java", "javascript", "go") and d.scope != "generation":
            assert (
                d.problem_id,
                f"{d.language}->python" if d.language != "python" else "python->cpp",
            ) in excluded
    gen = load_bench("humaneval-x")
    assert {(e["problem_id"], e["key"]) for e in gen.excluded} == {
        ("HumanEval/112", "javascript"),
        ("HumanEval/155", "javascript"),
        ("HumanEval/162", "javascript"),
        ("HumanEval/72", "go"),
    }


def test_multipl_e_defaults_to_the_papers_eight_languages_and_is_evaluation_only():
    bench = load_bench("multipl-e", limit=2)
    assert {i.language for i in bench.items} == set(MULTIPL_E_DEFAULT) and len(bench.items) == 16
    assert all(i.problem.provenance.eval_only for i in bench.items)
    assert all(i.limits is not None and i.limits.time_s == 15.0 for i in bench.items)
    go = load_bench("multipl-e", ["go"], limit=1).items[0]
    assert go.limits.time_s == 30.0  # MultiPL-E's `go test` limit


def test_multipl_e_completion_is_cut_at_the_stop_sequences_and_assembled():
    items = {i.language: i for i in load_bench("multipl-e", ["python", "cpp", "go", "rust"], limit=1).items}
    py = items["python"]
    assert py.cut("    return 1\n\ndef other():\n    pass\n") == "    return 1\n"
    assert py.cut("    return 1  # comment\n") == "    return 1  # comment\n"  # "\n#" only at line start
    assert items["cpp"].cut("    return 1;\n}\nint main() {}\n") == "    return 1;"
    assert "struct" in items["go"].stop and items["rust"].stop == ("\n}",)
    request = py.request(py.cut("    return True\n\ndef x(): pass"))
    assert isinstance(request, JudgeRequest)
    assert (
        request.code.startswith(py.prompt + "    return True\n\n") and "def check(candidate)" in request.code
    )


def test_unknown_language_and_bench_name_what_is_known():
    with pytest.raises(ValueError, match="known languages|its languages"):
        load_bench("multipl-e", ["cobol"])
    with pytest.raises(ValueError, match="its languages: python, cpp, java, javascript, go"):
        load_bench("translate-humaneval-x", ["python", "rust"])
    with pytest.raises(ValueError, match="known: multipl-e, humaneval-x"):
        load_bench("mbpp")


def test_directions_from_languages_or_pairs():
    assert parse_directions(["py", "js"], ()) == [("python", "javascript"), ("javascript", "python")]
    assert parse_directions(["python->cpp", "java:go"], ()) == [("python", "cpp"), ("java", "go")]
    with pytest.raises(ValueError, match="SRC->TGT"):
        parse_directions(["python->cpp", "java"], ())


def test_humaneval_x_cleanup_follows_codegeex():
    assert cut_humaneval_x("python", "", "    return 1\n\n\nprint(f(2))\n") == "    return 1\n\n\n"
    assert cut_humaneval_x(
        "go", "func F() int {\n", "    if x { return 1 }\n    return 2\n}\nfunc main() {}\n"
    ) == ("    if x { return 1 }\n    return 2\n}\n")
    java_prompt = "class Solution {\n    public int f() {\n"
    assert cut_humaneval_x("java", java_prompt, "        return 1;\n    }\n}\nclass X {}\n").endswith(
        "    }\n}\n"
    )


def test_humaneval_x_limit_keeps_the_first_problems_with_their_defects():
    bench = load_bench("humaneval-x", ["javascript"], limit=113)
    assert len(bench.items) == 112 and [e["problem_id"] for e in bench.excluded] == ["HumanEval/112"]


def test_oracles():
    items = load_bench("humaneval-x", ["python"], limit=3).items
    ref = ReferenceBackend(items).generate(items, n=2)
    assert ref[0] == [items[0].reference] * 2
    shuffled = ShuffledBackend(items).generate(items, n=1)
    assert [s[0] for s in shuffled] == [items[1].reference, items[2].reference, items[0].reference]
    with pytest.raises(ValueError, match="multipl-e ships no canonical solutions"):
        make_generator("reference", None, load_bench("multipl-e", ["python"], limit=1).items)
    with pytest.raises(ValueError, match="known: hf, vllm, openai"):
        make_generator("gpt", "m", items)
    with pytest.raises(ValueError, match="--base-url"):
        make_generator("openai", "m", items)


def test_greedy_means_one_sample():
    with pytest.raises(ValueError, match="greedy"):
        RunSettings("m", n_samples=4, temperature=0.0)
    with pytest.raises(ValueError, match="positive"):
        RunSettings("m", ks=(0,))


def test_humaneval_x_programs_are_assembled_like_codegeex():
    items = {i.language: i for i in load_bench("humaneval-x", ["python", "go"], limit=1).items}
    py = items["python"].request("    return bool(math.inf)\n")
    assert py.code.startswith("import math\n") and "import numpy as np\n" in py.code  # its import block
    assert py.code.rstrip().endswith("check(has_close_elements)")
    go = items["go"].request(items["go"].reference)
    assert go.code.startswith("package main") and "func TestHasCloseElements" in go.code
    assert 'import (\n    "math"\n)' in go.code  # the canonical solution calls math.Abs


def test_go_translation_keeps_the_prompts_import_block_whole_and_ignores_comments(translation):
    """The training reward's assembly: HumanEval-X's Go prompt imports `( "math" "sort" )` (90);
    its doc comment says "a list of strings." (158) without using package strings."""
    items = {i.problem_id: i for i in translation.items if i.key == "python->go"}
    code90 = items["HumanEval/90"].request(items["HumanEval/90"].reference).code
    body90 = code90.split('assert"\n)\n', 1)[1]  # after the harness setup's own import block
    assert body90.startswith('import (\n    "sort"\n)\n//')  # "math" comes from the setup; no stray line
    code158 = items["HumanEval/158"].request(items["HumanEval/158"].reference).code
    assert '"strings"' not in code158 and '"sort"' in code158
