"""SYNTHETIC-1's code tasks (PrimeIntellect/verifiable-coding-problems), DATASETS.md section 3.

`verification_info` is serialized text `{"language": L, "test_cases": [...]}`; genesys reads it with
`ast.literal_eval`, others with `json.loads`, so both are accepted. A test case is
`{"type": "stdin_stdout", "input", "output"}` or `{"type": "function_call", "fn_name", "input",
"output"}` (re-exports type `input` as JSON text: it is decoded when it is a string). genesys judges
stdio by stripping the whole output and each line and comparing exactly: our `tolerant` checker
(trailing whitespace per line forgiven) is the closest. Function calls are judged (Python only)
with the APPS comparison (`oorl.tasks.apps.call_harness`), which also accepts the unwrapped value.
"""

from __future__ import annotations

import ast
import json

from oorl.langs import UnknownLanguageError, canonical_language
from oorl.sandbox.types import Checker, StdioTest
from oorl.tasks.answers import fenced_blocks
from oorl.tasks.apps import call_harness
from oorl.tasks.hub import RowError, open_rows
from oorl.tasks.schema import Problem, Provenance

HUB_ID = "PrimeIntellect/verifiable-coding-problems"
_FIELDS = (
    "source",
    "task_type",
    "in_source_id",
    "prompt",
    "gold_standard_solution",
    "verification_info",
    "metadata",
    "problem_id",
)


def features():
    from datasets import Features, Value

    return Features({name: Value("string") for name in _FIELDS})


def parse_serialized(text: str, where: str, field: str):
    """JSON, else a Python literal (genesys' `ast.literal_eval`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise RowError(f"{where}: field {field!r}: neither JSON nor a Python literal") from None


def _gold_code(text: str | None) -> str | None:
    if not text:
        return None
    blocks, _ = fenced_blocks(text)
    return (blocks[0][1] + "\n") if blocks else text


def _decoded(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def problem_from_row(row: dict, where: str) -> Problem | None:
    """A row as a Problem; None for function-call tests in a language other than Python."""
    info = parse_serialized(row["verification_info"], where, "verification_info")
    if not isinstance(info, dict) or "test_cases" not in info:
        raise RowError(f"{where}: field 'verification_info': expected an object with 'test_cases'")
    try:
        language = canonical_language(info.get("language") or "python")
    except UnknownLanguageError as e:
        raise RowError(f"{where}: field 'verification_info.language': {e}") from None
    cases = info["test_cases"]
    stdio = [c for c in cases if c.get("type") == "stdin_stdout"]
    calls = [c for c in cases if c.get("type") == "function_call"]
    pid = f"synthetic-1/{row['problem_id']}"
    gold = _gold_code(row.get("gold_standard_solution"))
    common = dict(
        id=pid,
        provenance=Provenance(
            dataset="synthetic-1", source_id=row["problem_id"], url=None, origin=row.get("source")
        ),
        description=row.get("prompt"),
        solutions={language: gold} if gold else {},
    )
    if calls:
        if language != "python":
            return None
        harness = call_harness(
            calls[0]["fn_name"], [(_decoded(c["input"]), _decoded(c["output"])) for c in calls]
        )
        return Problem(**common, harness={"python": harness})
    tests = [StdioTest(stdin=str(c["input"]), expected=str(c["output"])) for c in stdio]
    if not tests:
        return None
    return Problem(**common, tests=tests, checker=Checker(mode="tolerant"))


def load_synthetic1(path_or_id: str = HUB_ID, split: str = "train") -> list[Problem]:
    """SYNTHETIC-1 code problems from the hub or a local file (rows nothing can judge are skipped)."""
    out = []
    for where, row in open_rows(
        path_or_id, split=split, features=features(), required=("problem_id", "verification_info")
    ):
        p = problem_from_row(row, where)
        if p is not None:
            out.append(p)
    return out
