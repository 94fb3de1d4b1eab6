"""HumanEval-X (THUDM/CodeGeeX, Apache-2.0): 164 problems, harness tests in 6 languages.

Programs are assembled the way CodeGeeX's `execution.py` does (see data/humaneval-x/README.md),
with its known harness bugs fixed: Java actually runs, JavaScript passes on exit 0 without a failed
`console.assert` (not on empty output), and Rust runs without crates (their `use` lines are dropped;
tasks whose solutions call rand/regex/md5 then fail to compile, as the README measures).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from oorl.tasks.schema import Harness, Problem, Provenance

HUB_ID = "THUDM/humaneval-x"
LANGUAGES = {"python": "python", "cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust"}
# CodeGeeX re-imports these Go packages when the program mentions them (execution.py)
_GO_PACKAGES = (
    "math",
    "strings",
    "fmt",
    "strconv",
    "time",
    "bytes",
    "regexp",
    "sort",
    "math/rand",
    "crypto/md5",
)
_GO_IMPORT_BLOCK = re.compile(r"^import\s*(\([^)]*\)|\"[^\"]*\")\s*\n", re.MULTILINE)
_RUST_CRATE_USE = re.compile(r"^\s*use\s+(rand|regex|md5)\b[^;]*;\s*\n", re.MULTILINE)


def bundled_path(language: str) -> Path:
    """The local copy shipped with oorl (the files are byte-identical to CodeGeeX's)."""
    return Path(
        str(resources.files("oorl") / "data" / "humaneval-x" / f"humaneval_{LANGUAGES[language]}.jsonl.gz")
    )


def go_fix_imports(code: str, setup: str = "", *, scan: str | None = None) -> str:
    """Drop `code`'s own import blocks and import exactly the listed packages it uses, as CodeGeeX does:
    a package counts as used when `<last path segment>.` occurs in `scan` (default: the code itself;
    CodeGeeX scans only the generated part, not the prompt's doc comment)."""
    body = _GO_IMPORT_BLOCK.sub("", code)
    scan = body if scan is None else scan
    used = [p for p in _GO_PACKAGES if f"{p.rsplit('/', 1)[-1]}." in scan and f'"{p}"' not in setup]
    if not used:
        return body
    return "import (\n" + "".join(f'    "{p}"\n' for p in used) + ")\n" + body


def rust_drop_crates(code: str) -> str:
    """Remove `use` lines of crates that are not available offline (rand, regex, md5)."""
    return _RUST_CRATE_USE.sub("", code)


def _harness(language: str, row: dict) -> tuple[Harness, str]:
    """The harness and the canonical solution (a full program without tests) for one record."""
    prompt, solution, tests = row["prompt"], row["canonical_solution"], row["test"]
    if language == "go":
        setup = row["test_setup"].rstrip() + "\n"
        return (
            Harness(prompt=prompt, tests=tests, declaration=row["declaration"], setup=setup),
            go_fix_imports(prompt + solution, setup, scan=solution),
        )
    if language == "rust":
        prefix = "fn main() {}\n" + rust_drop_crates(row["declaration"])
        return Harness(prompt=prefix, tests=tests, declaration=row["declaration"]), prefix + solution
    return Harness(prompt=prompt, tests=tests, declaration=row["declaration"]), prompt + solution


def load_humaneval_x(
    languages: list[str] | None = None, *, path: str | None = None, split: str = "test"
) -> list[Problem]:
    """HumanEval-X as Problems with a harness and canonical solution per language.

    `path=None` reads the bundled copy; a directory or file path reads local JSONL(.gz) files; anything
    else is a hub id (`THUDM/humaneval-x`, one config per language) read with `datasets.load_dataset`.
    """
    import datasets

    problems: dict[str, Problem] = {}
    for language in languages or list(LANGUAGES):
        short = LANGUAGES[language]
        if path is None or Path(path).exists():
            local = bundled_path(language) if path is None else Path(path)
            if local.is_dir():
                local = local / f"humaneval_{short}.jsonl.gz"
            ds = datasets.load_dataset("json", data_files=str(local), split="train")
        else:
            ds = datasets.load_dataset(path, short, split=split)
        for row in ds:
            index = row["task_id"].split("/")[-1]
            pid = f"HumanEval/{index}"
            problem = problems.setdefault(
                pid,
                Problem(
                    id=pid,
                    provenance=Provenance(
                        dataset="humaneval-x",
                        source_id=pid,
                        license="Apache-2.0",
                        url="https://github.com/THUDM/CodeGeeX",
                    ),
                ),
            )
            harness, solution = _harness(language, row)
            problem.harness[language] = harness
            problem.solutions[language] = solution
    return sorted(problems.values(), key=lambda p: int(p.id.split("/")[1]))
