"""The run report: `report.md`, `summary.json`, `metrics.jsonl` and a reward-curve PNG."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from oorl.eval.translation import TranslationEval


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


def language_table(evals: dict[str, TranslationEval]) -> str:
    """A Markdown table: one row per target language, one column per evaluated model."""
    names = list(evals)
    langs = sorted({lang for e in evals.values() for lang in e.per_language})
    lines = ["| target language | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for lang in langs:
        cells = [f"{evals[n].per_language.get(lang, float('nan')):.3f}" for n in names]
        lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + " | ".join(f"**{evals[n].pass_at_1:.3f}**" for n in names) + " |")
    return "\n".join(lines)


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
    lines = ["# OORL run report", ""]
    if notes:
        lines += [notes, ""]
    lines += ["## Held-out pass@1", "", table, ""]
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
