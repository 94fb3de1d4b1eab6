"""APPS (hendrycks et al. 2021) and TACO (BAAI 2023): Python problems with stdio or call-based tests.

Both store `input_output` as JSON text `{"inputs": [...], "outputs": [...], "fn_name"?: str}` and
`solutions` as a JSON list of Python sources (DATASETS.md sections 1 and 2).
- stdio problems: `inputs[i]`/`outputs[i]` are strings (a list is joined with newlines); APPS is
  judged with its lenient comparison (`Checker(mode="apps")`); TACO's judge is whole-output strip
  and equality, closest to our `tolerant` mode (which also forgives trailing spaces per line).
- call-based problems (`fn_name`): a Python harness calls the function (`Solution().fn_name` when
  the code defines `class Solution`) with the JSON arguments and compares like APPS's
  `testing_util.py`: tuples become lists; a result equal to `outputs[i]` or to `outputs[i][0]`
  passes; dictionaries with int keys, which JSON stored as strings, get them back. Only Python can
  be judged on such a problem.
"""

from __future__ import annotations

import json

from oorl.sandbox.types import Checker, StdioTest
from oorl.tasks.hub import RowError, open_rows
from oorl.tasks.schema import Harness, Problem, Provenance

# codeparrot/apps still loads through a script, which datasets >= 4 refuses (huggingface/datasets#7693);
# metr-evals/apps is its Parquet mirror with the same schema.
APPS_HUB_ID = "metr-evals/apps"
TACO_HUB_ID = "BAAI/TACO"

_TACO_STRING_FIELDS = (
    "question",
    "solutions",
    "starter_code",
    "input_output",
    "difficulty",
    "raw_tags",
    "name",
    "source",
    "tags",
    "skill_types",
    "url",
    "Expected Auxiliary Space",
    "time_limit",
    "date",
    "picture_num",
    "memory_limit",
    "Expected Time Complexity",
)


def apps_features():
    from datasets import Features, Value

    return Features(
        {
            "problem_id": Value("int64"),
            "question": Value("string"),
            "solutions": Value("string"),
            "input_output": Value("string"),
            "difficulty": Value("string"),
            "url": Value("string"),
            "starter_code": Value("string"),
        }
    )


def taco_features():
    from datasets import Features, Value

    return Features({name: Value("string") for name in _TACO_STRING_FIELDS})


CALL_HARNESS = """

# --- tests: APPS call-based judging (hendrycks/apps eval/testing_util.py) ---
import json as _oorl_json


def _oorl_int_keys(value):
    if isinstance(value, dict):
        try:
            return {int(k): v for k, v in value.items()}
        except ValueError:
            return value
    return value


def _oorl_check():
    fn_name = %(fn_name)r
    cases = _oorl_json.loads(%(cases)r)
    scope = globals()
    target = getattr(scope["Solution"](), fn_name) if "Solution" in scope else scope[fn_name]
    for i, (args, expected) in enumerate(cases):
        if args and isinstance(args[0], dict):
            args = [_oorl_int_keys(args[0]), *args[1:]]
        expected = _oorl_int_keys(expected)
        got = target(*args)
        if isinstance(got, tuple):
            got = list(got)
        if not (got == expected or (isinstance(expected, list) and expected and got == expected[0])):
            raise AssertionError("test %%d: %%s returned %%r, expected %%r" %% (i, fn_name, got, expected))


_oorl_check()
"""


def call_harness(fn_name: str, cases: list[tuple[list, object]], declaration: str | None = None) -> Harness:
    """A Python harness that calls `fn_name(*args)` for each case and compares like APPS."""
    tests = CALL_HARNESS % {"fn_name": fn_name, "cases": json.dumps([[a, e] for a, e in cases])}
    return Harness(prompt="", tests=tests, declaration=(declaration or "").rstrip() or None)


def _join(value) -> str:
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value)


def _parse_json(text: str | None, where: str, field: str, default):
    if not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RowError(f"{where}: field {field!r}: not valid JSON ({e.msg})") from None


def problem_from_row(
    row: dict, *, where: str, pid: str, dataset: str, checker: Checker, license: str | None
) -> Problem | None:
    """An APPS/TACO row as a Problem; None when it has no tests (APPS rows with empty input_output)."""
    io = _parse_json(row.get("input_output"), where, "input_output", {})
    if not io or not io.get("inputs"):
        return None
    inputs, outputs = io.get("inputs", []), io.get("outputs", [])
    if len(inputs) != len(outputs):
        raise RowError(f"{where}: field 'input_output': {len(inputs)} inputs but {len(outputs)} outputs")
    sols = _parse_json(row.get("solutions"), where, "solutions", [])
    common = dict(
        id=pid,
        provenance=Provenance(
            dataset=dataset,
            source_id=pid.split("/", 1)[1],
            license=license,
            url=row.get("url"),
            difficulty=row.get("difficulty"),
        ),
        description=row["question"],
        solutions={"python": sols[0]} if sols else {},
    )
    if io.get("fn_name"):
        harness = call_harness(
            io["fn_name"], list(zip(inputs, outputs, strict=True)), row.get("starter_code")
        )
        return Problem(**common, harness={"python": harness})
    tests = [StdioTest(stdin=_join(i), expected=_join(o)) for i, o in zip(inputs, outputs, strict=True)]
    return Problem(**common, tests=tests, checker=checker)


def load_apps(
    path_or_id: str = APPS_HUB_ID, split: str = "test", *, config: str | None = None
) -> list[Problem]:
    """APPS problems with tests (rows without tests are skipped), from the hub or a local file."""
    out = []
    for where, row in open_rows(
        path_or_id,
        split=split,
        features=apps_features(),
        config=config,
        required=("problem_id", "question", "input_output"),
    ):
        p = problem_from_row(
            row,
            where=where,
            pid=f"apps/{split}/{row['problem_id']}",
            dataset="apps",
            checker=Checker(mode="apps"),
            license="MIT",
        )
        if p is not None:
            out.append(p)
    return out


def load_taco(
    path_or_id: str = TACO_HUB_ID, split: str = "test", *, config: str | None = None
) -> list[Problem]:
    """TACO problems (ids are `taco/<split>/<row index>`), from the hub or a local file."""
    out = []
    rows = open_rows(
        path_or_id,
        split=split,
        features=taco_features(),
        config=config,
        required=("question", "input_output"),
    )
    for index, (where, row) in enumerate(rows):
        p = problem_from_row(
            row,
            where=where,
            pid=f"taco/{split}/{index}",
            dataset="taco",
            checker=Checker(mode="tolerant"),
            license="Apache-2.0",
        )
        if p is not None:
            out.append(p)
    return out
