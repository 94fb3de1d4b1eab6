"""Answer extraction (the format rule) and assembly of harness programs."""

from __future__ import annotations

import pytest

from oorl.tasks.answers import assemble_solution, extract_code, fenced_blocks
from oorl.tasks.schema import Harness, Problem, Provenance


def test_single_tagged_block_is_extracted():
    ex = extract_code("Here it is:\n```cpp\nint main() { return 0; }\n```\nDone.", "cpp")
    assert ex.format_ok and ex.code == "int main() { return 0; }\n" and ex.tag == "cpp"


@pytest.mark.parametrize("tag", ["c++", "CPP", "cxx", ""])
def test_aliases_and_untagged_blocks_are_accepted(tag):
    ex = extract_code(f"```{tag}\nx\n```", "cpp")
    assert ex.format_ok and ex.code == "x\n"


def test_block_in_another_language_is_a_format_failure():
    ex = extract_code("```python\nprint(1)\n```", "cpp")
    assert not ex.format_ok and ex.code is None and "python" in ex.reason


def test_unknown_tag_is_a_format_failure():
    assert not extract_code("```pascal\nbegin end.\n```", "java").format_ok


def test_unterminated_block_is_a_format_failure():
    ex = extract_code("```java\nclass A {\n  void f() {", "java")
    assert not ex.format_ok and "unterminated" in ex.reason


@pytest.mark.parametrize("text, found", [("no code at all", 0), ("```go\na\n```\n```go\nb\n```", 2)])
def test_anything_but_exactly_one_block_is_a_format_failure(text, found):
    ex = extract_code(text, "go")
    assert not ex.format_ok and f"found {found}" in ex.reason


def test_longer_fence_holds_inner_backticks():
    blocks, open_ = fenced_blocks("````python\ns = '```'\n````")
    assert blocks == [("python", "s = '```'")] and not open_


def test_info_string_after_tag_is_ignored():
    ex = extract_code("```python title=main.py\nprint(2)\n```", "py")
    assert ex.format_ok and ex.code == "print(2)\n"


def _harness_problem(language: str, prompt: str) -> Problem:
    return Problem(
        id="p", provenance=Provenance(dataset="t"), harness={language: Harness(prompt=prompt, tests="")}
    )


PY_PROMPT = '''from typing import List


def helper(x: int) -> int:
    return x + 1


def f(xs: List[int]) -> int:
    """Sum of helper(x)."""
'''


def test_python_assembly_adds_missing_imports_and_helpers_once():
    code = "def f(xs):\n    return sum(helper(x) for x in xs)\n"
    out = assemble_solution(_harness_problem("python", PY_PROMPT), "python", code)
    assert out.count("from typing import List") == 1 and out.count("def helper") == 1
    assert out.endswith(code) and "Sum of helper" not in out  # the target's own docstring is not added


def test_python_assembly_keeps_a_complete_solution_as_is():
    code = PY_PROMPT + "    return sum(helper(x) for x in xs)\n"
    assert assemble_solution(_harness_problem("python", PY_PROMPT), "python", code) == code


CPP_PROMPT = "/*\nDoc with >>> f({1})\n*/\n#include<stdio.h>\n#include<vector>\nusing namespace std;\nint f(vector<int> v){\n"


def test_brace_assembly_drops_comments_and_the_open_signature():
    code = "#include <vector>\nint f(std::vector<int> v){ return v.size(); }\n"
    out = assemble_solution(_harness_problem("cpp", CPP_PROMPT), "cpp", code)
    assert out.splitlines()[:3] == ["#include<stdio.h>", "#include<vector>", "using namespace std;"]
    assert "Doc with" not in out and out.count("int f(") == 1


def test_go_package_clause_stays_first():
    prompt = 'package main\n\nimport (\n    "strings"\n)\n\nfunc F(s string) int {\n'
    code = "package main\n\nfunc F(s string) int { return len(strings.TrimSpace(s)) }\n"
    out = assemble_solution(_harness_problem("go", prompt), "go", code)
    assert out.startswith("package main\n") and out.count("package main") == 1 and '"strings"' in out


def test_stdio_problem_code_is_the_program():
    p = Problem(id="p", provenance=Provenance(dataset="t"), tests=[{"stdin": "", "expected": "1"}])
    assert assemble_solution(p, "python", "print(1)\n") == "print(1)\n"
