"""Loading hub datasets and their local copies through one code path, with row-level errors.

`open_rows(path_or_id, ...)` reads a local `.jsonl`/`.json`/`.parquet` file with
`datasets.load_dataset("json" | "parquet", data_files=...)` and anything else as a hub id with
`datasets.load_dataset(hub_id, config, split=split)`, always with explicit `Features` (the JSON
builder types an all-null column as `null` and turns date-like strings into timestamps; see
DATASETS.md). For local JSON Lines every row is first checked for its required fields, so a bad
row is reported as `FILE:LINE: field 'x': ...` before any conversion.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from oorl.jsonl import JsonlError, iter_jsonl_dicts


class RowError(ValueError):
    """A row that does not convert: the message names where it is (file:line, or hub id and row)."""


def _check_required(path: Path, required: Sequence[str]) -> list[int]:
    """Line numbers of the rows of a JSON Lines file; raises JsonlError for a missing field."""
    lines = []
    for lineno, obj in iter_jsonl_dicts(path):
        for name in required:
            if name not in obj:
                raise JsonlError(path, lineno, f"field {name!r}: missing (required)")
        lines.append(lineno)
    return lines


def open_rows(
    path_or_id: str, *, split: str, features, required: Sequence[str], config: str | None = None
) -> Iterator[tuple[str, dict]]:
    """(where, row) for every row: `where` is `FILE:LINE` locally, `HUB_ID[split] row I` on the hub."""
    import datasets

    local = Path(path_or_id)
    if local.exists():
        if local.suffix == ".parquet":
            ds = datasets.load_dataset("parquet", data_files=str(local), split="train", features=features)
            places = [f"{local} row {i}" for i in range(len(ds))]
        else:
            places = [f"{local}:{n}" for n in _check_required(local, required)]
            ds = datasets.load_dataset("json", data_files=str(local), split="train", features=features)
    else:
        ds = datasets.load_dataset(path_or_id, config, split=split, features=features)
        places = [f"{path_or_id}[{split}] row {i}" for i in range(len(ds))]
    for where, row in zip(places, ds, strict=True):
        missing = [name for name in required if row.get(name) is None]
        if missing:
            raise RowError(f"{where}: field {missing[0]!r}: missing (required)")
        yield where, row
