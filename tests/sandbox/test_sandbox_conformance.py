"""Conformance on real data no one here wrote: HumanEval-X canonical solutions and MultiPL-E.

Expected pass counts are the ones HumanEval-X's README measured with Debian's toolchains; the known
failures are data bugs or crates that are not available offline, listed by id.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oorl.sandbox import Verdict
from oorl.tasks.humaneval_x import load_humaneval_x
from oorl.tasks.multipl_e import load_multipl_e

MULTIPL_E = Path(__file__).parent.parent / "data" / "multipl-e"
KNOWN_FAILURES = {
    "python": set(),
    "java": set(),
    "go": set(),
    "cpp": set(),  # the README's two Boost failures pass here: setup installs libboost-dev
    "javascript": {112, 155, 162},  # two data bugs; JS/162 needs the js-md5 npm module
    "rust": {38, 50, 53, 91, 162},  # call the rand / regex / md5 crates
}

# Go/95's canonical solution depends on Go's randomised map iteration order (it inspects the first
# key it meets and stops at the second): it passes or fails run by run.
NONDETERMINISTIC = {"go": {95}}


@pytest.fixture(scope="module")
def humaneval_x():
    return load_humaneval_x()


@pytest.mark.parametrize("language", sorted(KNOWN_FAILURES))
def test_humaneval_x_canonical_solutions_pass(sandbox, humaneval_x, language):
    problems = [p for p in humaneval_x if language in p.solutions]
    assert len(problems) == 164
    results = sandbox.judge_many([p.request(language, p.solutions[language]) for p in problems])
    failed = {int(p.id.split("/")[1]): r for p, r in zip(problems, results, strict=True) if not r.accepted}
    assert not [r for r in results if r.verdict is Verdict.SANDBOX_ERROR]
    flaky = NONDETERMINISTIC.get(language, set())
    assert set(failed) - flaky == KNOWN_FAILURES[language], {
        k: (v.verdict, v.detail) for k, v in failed.items()
    }


WRONG_BODIES = {  # HumanEval/0 has_close_elements, always answering "no": compiles, fails the tests
    "python": "    return False\n",
    "cpp": "    return false;\n}\n",
    "java": "        return false;\n    }\n}\n",
    "javascript": "  return false;\n}\n",
    "go": "    return false\n}\n",
    "rust": "    return false;\n}\n",
}


@pytest.mark.parametrize("language", sorted(WRONG_BODIES))
def test_humaneval_x_wrong_solution_fails(sandbox, humaneval_x, language):
    problem = humaneval_x[0]
    prompt = problem.harness[language].prompt
    if language == "go":
        from oorl.tasks.humaneval_x import go_fix_imports

        code = go_fix_imports(prompt + WRONG_BODIES[language], problem.harness[language].setup)
    else:
        code = prompt + WRONG_BODIES[language]
    result = sandbox.judge(problem.request(language, code))
    assert result.verdict is Verdict.WRONG_ANSWER, (result.verdict, result.detail, result.compile)


# HumanEval_0 (has_close_elements): a correct and a wrong completion per MultiPL-E language.
MULTIPL_E_COMPLETIONS = {
    "python": (
        "    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n"
        "            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n",
        "    return False\n",
    ),
    "cpp": (
        "    for (size_t i = 0; i < numbers.size(); i++)\n        for (size_t j = 0; j < numbers.size(); j++)\n"
        "            if (i != j && std::abs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n",
        "    return false;\n",
    ),
    "java": (
        "        for (int i = 0; i < numbers.size(); i++)\n            for (int j = 0; j < numbers.size(); j++)\n"
        "                if (i != j && Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
        "        return false;\n",
        "        return false;\n",
    ),
    "php": (
        "    for ($i = 0; $i < count($numbers); $i++)\n        for ($j = 0; $j < count($numbers); $j++)\n"
        "            if ($i != $j && abs($numbers[$i] - $numbers[$j]) < $threshold) return true;\n    return false;\n}\n",
        "    return false;\n}\n",
    ),
    "bash": (
        '    echo "$1" | awk -v t="$2" \'{for(i=1;i<=NF;i++)for(j=1;j<=NF;j++)if(i!=j){d=$i-$j;if(d<0)d=-d;'
        'if(d<t){print "true";exit}} print "false"}\'\n',
        "    echo false\n",
    ),
    "javascript": (
        "    for (let i = 0; i < numbers.length; i++)\n        for (let j = 0; j < numbers.length; j++)\n"
        "            if (i !== j && Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n}\n",
        "    return false;\n}\n",
    ),
    "csharp": (
        "        for (int i = 0; i < numbers.Count; i++)\n            for (int j = 0; j < numbers.Count; j++)\n"
        "                if (i != j && Math.Abs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "        return false;\n",
        "        return false;\n",
    ),
    "go": (
        "    for i := range numbers {\n        for j := range numbers {\n            d := numbers[i] - numbers[j]\n"
        "            if d < 0 {\n                d = -d\n            }\n            if i != j && d < threshold {\n"
        "                return true\n            }\n        }\n    }\n    return false\n}\n",
        "    return false\n}\n",
    ),
    "scala": (
        "        numbers.indices.exists(i => numbers.indices.exists(j => i != j && "
        "(numbers(i) - numbers(j)).abs < threshold))\n",
        "        false\n",
    ),
    "haskell": (
        " or [abs (a - b) < threshold | (i, a) <- zip [0 :: Int ..] numbers, (j, b) <- zip [0..] numbers, i /= j]\n",
        " False\n",
    ),
    "rust": (
        "    for i in 0..numbers.len() {\n        for j in 0..numbers.len() {\n"
        "            if i != j && (numbers[i] - numbers[j]).abs() < threshold { return true; }\n        }\n    }\n"
        "    false\n",
        "    false\n",
    ),
}
MULTIPL_E_COMPLETIONS["typescript"] = MULTIPL_E_COMPLETIONS["javascript"]


@pytest.fixture(scope="module")
def multipl_e():
    return {p.id: p for p in load_multipl_e(path=str(MULTIPL_E))}


def test_multipl_e_is_marked_evaluation_only(multipl_e):
    assert len(multipl_e) == 161
    assert all(p.provenance.eval_only for p in multipl_e.values())
    assert len(multipl_e["HumanEval/0"].harness) == 12


@pytest.mark.parametrize("language", sorted(MULTIPL_E_COMPLETIONS))
def test_multipl_e_correct_and_wrong_completions(sandbox, multipl_e, language):
    problem = multipl_e["HumanEval/0"]
    prompt = problem.harness[language].prompt
    right, wrong = MULTIPL_E_COMPLETIONS[language]
    good, bad = sandbox.judge_many(
        [problem.request(language, prompt + right), problem.request(language, prompt + wrong)]
    )
    assert good.verdict is Verdict.ACCEPTED, (good.verdict, good.detail, good.compile, good.tests)
    assert bad.verdict is Verdict.WRONG_ANSWER or bad.verdict is Verdict.RUNTIME_ERROR, (
        bad.verdict,
        bad.detail,
    )
    assert not bad.accepted
