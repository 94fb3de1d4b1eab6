"""MultiPL-E HumanEval prompts and tests (nuprl/MultiPL-E): EVALUATION ONLY.

The repository's license is "BSD 3-Clause License with Machine Learning Restriction"; its clause 4
forbids using the contents as training data for any machine-learning model. Every record loaded here
is marked `eval_only`, and every training-set builder refuses such records.

A program is `prompt + completion + "\\n" + tests` and passes when it exits 0 (MultiPL-E's
`evaluation/src/main.py`); the prompt ends just after the function signature.
"""

from __future__ import annotations

from pathlib import Path

from oorl.langs import canonical_language
from oorl.tasks.schema import Harness, Problem, Provenance

HUB_ID = "nuprl/MultiPL-E"
LICENSE = "BSD-3-Clause with Machine Learning Restriction (evaluation only: no training use)"
# MultiPL-E's short names (the `language` field; Go's is the test file name)
SHORT_NAMES = {
    "python": "py",
    "cpp": "cpp",
    "java": "java",
    "php": "php",
    "bash": "sh",
    "javascript": "js",
    "typescript": "ts",
    "csharp": "cs",
    "go": "go",
    "scala": "scala",
    "haskell": "hs",
    "rust": "rs",
}


class EvalOnlyError(ValueError):
    """A training-set builder was given evaluation-only records."""


def refuse_eval_only(problems: list[Problem], purpose: str = "a training set") -> None:
    """Raise if any problem may only be used for evaluation (MultiPL-E's license)."""
    banned = [p.id for p in problems if p.provenance.eval_only]
    if banned:
        raise EvalOnlyError(
            f"refusing to put {len(banned)} evaluation-only problems (e.g. {banned[0]}) into {purpose}: "
            f"their license forbids use as training data ({LICENSE})"
        )


def load_multipl_e(
    languages: list[str] | None = None,
    *,
    path: str | None = None,
    benchmark: str = "humaneval",
    revision: str | None = None,
) -> list[Problem]:
    """MultiPL-E as Problems: one harness per language, no reference solutions.

    `path` is a directory of `humaneval-<short>-reworded.jsonl[.gz]` files (the regenerated copy is
    preferred: it carries the 2026 upstream fixes) or, if it does not exist locally, a hub id read with
    `datasets.load_dataset(path, f"{benchmark}-{short}", split="test")`.
    """
    import datasets

    problems: dict[str, Problem] = {}
    for language in languages or list(SHORT_NAMES):
        language = canonical_language(language)
        short = SHORT_NAMES[language]
        source = path or HUB_ID
        if Path(source).exists():
            files = sorted(Path(source).glob(f"{benchmark}-{short}-*.jsonl*"))
            if not files:
                raise FileNotFoundError(f"{source}: no {benchmark}-{short}-*.jsonl file for {language}")
            ds = datasets.load_dataset("json", data_files=[str(f) for f in files], split="train")
        else:
            ds = datasets.load_dataset(source, f"{benchmark}-{short}", split="test", revision=revision)
        for row in ds:
            index = row["name"].split("_")[1]
            pid = f"HumanEval/{index}" if benchmark == "humaneval" else f"{benchmark}/{index}"
            problem = problems.setdefault(
                pid,
                Problem(
                    id=pid,
                    provenance=Provenance(
                        dataset="multipl-e",
                        source_id=row["name"],
                        license=LICENSE,
                        url="https://github.com/nuprl/MultiPL-E",
                        eval_only=True,
                    ),
                ),
            )
            problem.harness[language] = Harness(prompt=row["prompt"], tests=row["tests"])
    return sorted(problems.values(), key=lambda p: int(p.id.split("/")[1]))
