"""Reports, one module for every producer: `oorl eval`'s bench reports, and the training run's
report (the demo's; `oorl train`'s final evaluation).

A bench report (`write_eval_report`) is a pure function of `samples.jsonl`: `summary.json`
(`{"bench", "model", "n_samples", "problems", "pass_at_k": {"1": {KEY: float}}, "overall": {"1": float},
"excluded": [...], "sandbox_errors": int}`, KEY a language or "SRC->TGT"), `report.md` (per-language
table, source x target matrix, verdict breakdown per language, excluded data defects), `matrix.png`
(translation benches) and `per_language.png`.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oorl.eval.passk import pass_at_k_mean

if TYPE_CHECKING:
    from oorl.eval.benches import Bench
    from oorl.eval.translation import TranslationEval

VERDICT_COLUMNS = ("accepted", "format", "compile_error", "runtime_error", "wrong_answer", "time_limit")


def moving_average(values: list[float], window: int) -> list[float]:
    """Trailing mean over up to `window` values (the curve's first points average fewer)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def plot_reward_curve(metrics: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [m for m in metrics if "reward" in m]
    steps = [m["step"] for m in rows]
    rewards = [m["reward"] for m in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, rewards, alpha=0.35, label="reward (batch mean)")
    ax.plot(steps, moving_average(rewards, 5), label="moving average (5)")
    ax.set_xlabel("OORL step")
    ax.set_ylabel("reward = pass rate of samples")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; floats print with 3 decimals."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.3f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|---|" + "---|" * (len(header) - 1)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def language_table(evals: dict[str, TranslationEval]) -> str:
    """A Markdown table: one row per target language, one column per evaluated model."""
    names = list(evals)
    langs = sorted({lang for e in evals.values() for lang in e.per_language})
    rows: list[list[Any]] = [
        [lang, *(evals[n].per_language.get(lang, float("nan")) for n in names)] for lang in langs
    ]
    rows.append(["**all**", *(f"**{evals[n].pass_at_1:.3f}**" for n in names)])
    return markdown_table(["target language", *names], rows)


def write_report(
    out: str | Path,
    *,
    summary: dict[str, Any],
    evals: dict[str, TranslationEval],
    metrics_path: Path | None,
    notes: str = "",
) -> Path:
    """Write the report folder and return the path of `report.md`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = []
    if metrics_path is not None and metrics_path.exists():
        if metrics_path.resolve() != (out / "metrics.jsonl").resolve():
            shutil.copyfile(metrics_path, out / "metrics.jsonl")
        metrics = [json.loads(x) for x in metrics_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    if metrics:
        plot_reward_curve(metrics, out / "reward_curve.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    table = language_table(evals)
    (out / "per_language.md").write_text(table + "\n", encoding="utf-8")
    if evals:
        plot_per_language({n: e.per_language for n, e in evals.items()}, out / "per_language.png")
    lines = ["# OORL run report", ""]
    if notes:
        lines += [notes, ""]
    lines += ["## Held-out pass@1", "", table, "", "![per language](per_language.png)", ""]
    if metrics:
        lines += ["## Training", "", "![reward curve](reward_curve.png)", ""]
        last = metrics[-1]
        keys = [
            k
            for k in (
                "reward",
                "format_rate",
                "kl",
                "gepo_margin",
                "gepo_accuracy",
                "clip_frac",
                "tokens_per_s",
                "time_generate",
                "time_sandbox",
                "time_train",
            )
            if k in last
        ]
        lines += ["| metric (last step) | value |", "|---|---|"]
        lines += [f"| {k} | {last[k]:.4g} |" for k in keys]
        lines.append("")
    lines += ["## Summary", "", "```json", json.dumps(summary, indent=2), "```", ""]
    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report


# --- bench reports (`oorl eval`) -----------------------------------------------------------------


def row_key(row: dict[str, Any]) -> str:
    """A sample's group: its direction "SRC->TGT" (translation benches) or its language."""
    return row.get("direction") or row["language"]


def target_language(key: str) -> str:
    return key.split("->")[-1]


def counts(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, tuple[int, int]]]:
    """key -> problem id -> (n, c): samples judged and samples accepted (each sample once)."""
    seen: dict[tuple[str, str, int], bool] = {}
    for r in rows:
        seen[row_key(r), r["problem_id"], r["sample_index"]] = r["verdict"] == "accepted"
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (key, pid, _), ok in seen.items():
        out[key][pid][0] += 1
        out[key][pid][1] += int(ok)
    return {k: {p: (n, c) for p, (n, c) in sorted(v.items())} for k, v in sorted(out.items())}


def summarize(
    bench: Bench, rows: Sequence[dict[str, Any]], ks: Sequence[int], *, model: str, n_samples: int
) -> dict[str, Any]:
    """The bench summary from its samples: pass@k per key for every requested k <= n (the unbiased
    estimator, averaged over problems), and overall (the mean over keys, so each language or
    direction weighs the same whatever its problem count)."""
    wanted = {(i.problem_id, i.key) for i in bench.items}
    rows = [r for r in rows if (r["problem_id"], row_key(r)) in wanted]
    table = counts(rows)
    pass_at_k: dict[str, dict[str, float]] = {}
    overall: dict[str, float] = {}
    for k in sorted(set(ks)):
        if k > n_samples:
            continue
        per_key = {
            key: pass_at_k_mean(list(by_problem.values()), k)
            for key, by_problem in table.items()
            if all(n >= k for n, _ in by_problem.values())
        }
        pass_at_k[str(k)] = per_key
        if per_key:
            overall[str(k)] = sum(per_key.values()) / len(per_key)
    return {
        "bench": bench.name,
        "model": model,
        "n_samples": n_samples,
        "problems": len({r["problem_id"] for r in rows}),
        "pass_at_k": pass_at_k,
        "overall": overall,
        "excluded": sorted(bench.excluded, key=lambda e: (e["key"], int(e["problem_id"].split("/")[-1]))),
        "sandbox_errors": sum(r["verdict"] == "sandbox_error" for r in rows),
    }


def verdict_breakdown(rows: Iterable[dict[str, Any]]) -> dict[str, Counter]:
    """Target language -> verdict -> samples."""
    out: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        out[target_language(row_key(r))][r["verdict"]] += 1
    return dict(sorted(out.items()))


def by_target(per_key: dict[str, float]) -> dict[str, float]:
    """Mean per target language (translation benches average over source languages)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for key, v in per_key.items():
        groups[target_language(key)].append(v)
    return {t: sum(v) / len(v) for t, v in sorted(groups.items())}


def matrix(per_key: dict[str, float]) -> tuple[list[str], list[str], list[list[float]]]:
    """(sources, targets, values[source][target]) of a translation bench; NaN where not evaluated."""
    pairs = [k.split("->") for k in per_key if "->" in k]
    sources = sorted({s for s, _ in pairs})
    targets = sorted({t for _, t in pairs})
    values = [[per_key.get(f"{s}->{t}", math.nan) for t in targets] for s in sources]
    return sources, targets, values


def plot_matrix(per_key: dict[str, float], path: Path, title: str) -> None:
    """A source x target heatmap with each value printed in its cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources, targets, values = matrix(per_key)
    fig, ax = plt.subplots(figsize=(1.2 * len(targets) + 2.5, 0.9 * len(sources) + 1.8))
    im = ax.imshow(values, vmin=0.0, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(len(targets)), targets, rotation=30, ha="right")
    ax.set_yticks(range(len(sources)), sources)
    ax.set_xlabel("target language")
    ax.set_ylabel("source language")
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if not math.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_per_language(series: dict[str, dict[str, float]], path: Path, title: str = "pass@1") -> None:
    """Grouped bars: one group per language, one bar per series (a model, or a run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = sorted({lang for s in series.values() for lang in s})
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(langs) * max(1, len(series)) ** 0.5 + 2), 3.5))
    for i, (name, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(langs))]
        ys = [values.get(lang, math.nan) for lang in langs]
        bars = ax.bar(xs, ys, width, label=name)
        ax.bar_label(bars, labels=[f"{y:.2f}" if not math.isnan(y) else "" for y in ys], fontsize=7)
    ax.set_xticks(range(len(langs)), langs, rotation=30, ha="right")
    ax.set_ylim(0, 1.08)
    ax.set_ylabel(title)
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def eval_markdown(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """report.md of a bench run."""
    ks = list(summary["pass_at_k"])
    first = summary["pass_at_k"].get(ks[0], {}) if ks else {}
    table = counts(rows)
    translation = any("->" in k for k in first)
    lines = [
        f"# {summary['bench']}: {summary['model']}",
        "",
        f"{summary['problems']} problems, {summary['n_samples']} sample(s) each; pass@k is the unbiased "
        "estimator averaged over problems; *overall* is the mean over "
        + ("directions." if translation else "languages."),
        "",
        "## pass@k per " + ("direction" if translation else "language"),
        "",
        markdown_table(
            ["direction" if translation else "language", "problems", *(f"pass@{k}" for k in ks)],
            [
                [key, len(table.get(key, {})), *(summary["pass_at_k"][k].get(key, math.nan) for k in ks)]
                for key in first
            ]
            + [["**overall**", summary["problems"], *(summary["overall"].get(k, math.nan) for k in ks)]],
        ),
        "",
        "![per language](per_language.png)",
        "",
    ]
    if translation:
        sources, targets, values = matrix(first)
        lines += [
            f"## pass@{ks[0]} matrix (rows: source, columns: target)",
            "",
            markdown_table(
                ["source \\ target", *targets], [[s, *row] for s, row in zip(sources, values, strict=True)]
            ),
            "",
            "![matrix](matrix.png)",
            "",
        ]
    breakdown = verdict_breakdown(rows)
    extra = sorted({v for c in breakdown.values() for v in c} - set(VERDICT_COLUMNS))
    columns = [*VERDICT_COLUMNS, *extra]
    lines += [
        "## Verdicts per " + ("target language" if translation else "language"),
        "",
        markdown_table(
            ["language", *columns, "samples"],
            [[lang, *(c[v] for v in columns), sum(c.values())] for lang, c in breakdown.items()],
        ),
        "",
    ]
    if summary["excluded"]:
        lines += [
            f"## Excluded data defects ({len(summary['excluded'])} items)",
            "",
            "Known defects of the dataset (oorl.eval.defects): not scored, whatever the answer.",
            "",
            markdown_table(
                ["problem", "language / direction", "reason"],
                [[e["problem_id"], e["key"], e["reason"]] for e in summary["excluded"]],
            ),
            "",
        ]
    if summary["sandbox_errors"]:
        lines += [
            f"**{summary['sandbox_errors']} samples ended in sandbox errors** (counted as failures).",
            "",
        ]
    return "\n".join(lines)


def write_eval_report(out: str | Path, summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> Path:
    """summary.json, report.md, per_language.png and (translation benches) matrix.png in `out`."""
    out = Path(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    ks = list(summary["pass_at_k"])
    per_key = summary["pass_at_k"][ks[0]] if ks else {}
    if per_key:
        translation = any("->" in k for k in per_key)
        values = by_target(per_key) if translation else per_key
        label = f"pass@{ks[0]}" + (" (mean over sources)" if translation else "")
        plot_per_language({summary["model"]: values}, out / "per_language.png", label)
        if translation:
            plot_matrix(per_key, out / "matrix.png", f"{summary['bench']}: pass@{ks[0]}")
    report = out / "report.md"
    report.write_text(eval_markdown(summary, rows), encoding="utf-8")
    return report
