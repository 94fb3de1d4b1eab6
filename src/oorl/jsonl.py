"""JSON Lines I/O into pydantic models: a malformed row names its file and line, nothing is lost."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class JsonlError(ValueError):
    """A row that is not valid JSON or does not fit the schema: `FILE:LINE: what is wrong`."""

    def __init__(self, path: str | os.PathLike, line: int, message: str):
        self.path, self.line = str(path), line
        super().__init__(f"{path}:{line}: {message}")


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def iter_jsonl_dicts(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a .jsonl or .jsonl.gz file."""
    path = Path(path)
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise JsonlError(path, lineno, f"not valid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(obj, dict):
                raise JsonlError(path, lineno, f"expected a JSON object, got {type(obj).__name__}")
            yield lineno, obj


def describe_validation_error(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(row)"
        parts.append(f"field {loc!r}: {err['msg']}")
    return "; ".join(parts)


def read_jsonl(path: str | os.PathLike, model: type[M]) -> list[M]:
    """Every row of `path` parsed as `model`; the first bad row raises JsonlError with file:line."""
    rows = []
    for lineno, obj in iter_jsonl_dicts(path):
        try:
            rows.append(model.model_validate(obj))
        except ValidationError as e:
            raise JsonlError(path, lineno, describe_validation_error(e)) from None
    return rows


def write_jsonl(path: str | os.PathLike, rows: Iterable[BaseModel | dict], *, append: bool = False) -> int:
    """Write rows; without `append` the file is replaced atomically (a crash never leaves half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if append else path.with_name(f".{path.name}.tmp{os.getpid()}")
    n = 0
    try:
        with target.open("a" if append else "w", encoding="utf-8") as f:
            for row in rows:
                f.write(
                    row.model_dump_json()
                    if isinstance(row, BaseModel)
                    else json.dumps(row, ensure_ascii=False)
                )
                f.write("\n")
                n += 1
    except BaseException:
        if not append:
            target.unlink(missing_ok=True)
        raise
    if not append:
        os.replace(target, path)
    return n
