"""Compare two runs of the same bench: per language (or direction) pass@1 deltas with paired
bootstrap 95% intervals over problems.

Pairing: both runs answered the same problems, so the problems are resampled together (Efron &
Tibshirani 1993, ch. 16; the usual test for paired benchmark scores, cf. Dror et al. 2018) and each
replicate's delta is mean(B) - mean(A) over the same resampled problems. A delta is marked when its
interval excludes 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oorl.eval.passk import estimate_pass_at_k
from oorl.eval.report import counts, markdown_table
from oorl.eval.run import RUN_FILE, SAMPLES, read_samples


@dataclass(frozen=True)
class Delta:
    key: str
    problems: int
    a: float
    b: float
    low: float
    high: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    a: np.ndarray, b: np.ndarray, *, reps: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of mean(b) - mean(a) over problems resampled with replacement."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(reps, len(a)))  # (R, P)
    deltas = b[idx].mean(axis=1) - a[idx].mean(axis=1)
    low, high = np.percentile(deltas, [2.5, 97.5])
    return float(low), float(high)


def _per_problem(run: Path) -> dict[str, dict[str, float]]:
    path = run / SAMPLES
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {run} an `oorl eval` output folder?")
    return {
        key: {pid: estimate_pass_at_k(n, c, 1) for pid, (n, c) in by_problem.items()}
        for key, by_problem in counts(read_samples(path)).items()
    }


def compare_runs(run_a: str | Path, run_b: str | Path, *, reps: int = 10_000, seed: int = 0) -> list[Delta]:
    """A delta per key both runs hold (over the problems both judged), then "overall" (the mean
    over keys, resampling problems jointly across keys)."""
    run_a, run_b = Path(run_a), Path(run_b)
    benches = [
        json.loads((r / RUN_FILE).read_text())["bench"] for r in (run_a, run_b) if (r / RUN_FILE).exists()
    ]
    if len(set(benches)) > 1:
        raise ValueError(f"the runs are of different benches: {benches[0]} and {benches[1]}")
    pa, pb = _per_problem(run_a), _per_problem(run_b)
    keys = sorted(pa.keys() & pb.keys())
    if not keys:
        raise ValueError(f"{run_a} and {run_b} share no language or direction")
    out: list[Delta] = []
    columns_a, columns_b = [], []
    shared_problems = set.intersection(*(set(pa[k]) & set(pb[k]) for k in keys))
    for k in keys:
        problems = sorted(pa[k].keys() & pb[k].keys())
        a = np.array([pa[k][p] for p in problems])
        b = np.array([pb[k][p] for p in problems])
        out.append(
            Delta(
                k,
                len(problems),
                float(a.mean()),
                float(b.mean()),
                *paired_bootstrap(a, b, reps=reps, seed=seed),
            )
        )
        columns_a.append([pa[k][p] for p in sorted(shared_problems)])
        columns_b.append([pb[k][p] for p in sorted(shared_problems)])
    if len(keys) > 1 and shared_problems:
        a = np.array(columns_a).mean(axis=0)  # (P,) per-problem mean over keys
        b = np.array(columns_b).mean(axis=0)
        out.append(
            Delta(
                "overall",
                len(shared_problems),
                float(a.mean()),
                float(b.mean()),
                *paired_bootstrap(a, b, reps=reps, seed=seed),
            )
        )
    return out


def deltas_markdown(deltas: list[Delta], name_a: str, name_b: str) -> str:
    rows = [
        [
            d.key,
            d.problems,
            d.a,
            d.b,
            f"{d.delta:+.3f}" + (" *" if d.significant else ""),
            f"[{d.low:+.3f}, {d.high:+.3f}]",
        ]
        for d in deltas
    ]
    return (
        markdown_table(
            ["language / direction", "problems", f"A: {name_a}", f"B: {name_b}", "B - A", "95% CI"], rows
        )
        + "\n\n`*`: the paired bootstrap 95% interval (problems resampled) excludes 0.\n"
    )
