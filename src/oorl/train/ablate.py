"""`oorl ablate`: the paper's Table 4 (base, + REINFORCE++, + DPO, + GEPO) as a seeded experiment.

    for each seed:  tiny model -> SFT (once) -> every variant starts from that SFT checkpoint
    every cell (variant, seed) is scored on one fixed held-out set (oorl.eval.heldout):
        translation pass@1 (sampled and greedy, per target language) and GEPO's IR metrics
    -> summary.json (per seed, mean, 95% interval; paired differences against `onpolicy`)
    -> report.md (the paper's layout) and ablation.png

Variants name what trains after SFT: `sft` (nothing), `onpolicy` (on-policy RL on unit-test rewards with
the configured estimator, REINFORCE++ in the paper),
`onpolicy+dpo` (plus DPO on every winner x loser pair of the IR groups), `onpolicy+gepo` (OORL),
`gepo` (GEPO alone). Everything else is the config's, so variants differ in exactly one thing.

Seeds vary the model's initialisation, SFT's data order and every sampled rollout; the held-out
tasks and IR groups are the same for all cells, so differences between variants are paired by seed.

Runs resume per cell: a finished cell is its `result.json` and is never redone; an unfinished one
continues from its last checkpoint; a seed's SFT model is trained once. Evaluation settings (`eval.*`)
may change between runs of one folder: cells scored under others are scored again from the models
they trained, without training again. `--jobs N` runs N cells at once in separate processes (torch
on `threads` cores each, and a sandbox of its own).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import math
import os
import signal
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import yaml

from oorl.config import TrainConfig, apply_overrides, config_from_dict, dump_config

log = logging.getLogger("oorl.ablate")


class AblationError(ValueError):
    """A request that cannot run: an unknown variant, or a folder holding another ablation."""


DEFAULT_VARIANTS = ("sft", "onpolicy", "onpolicy+dpo", "onpolicy+gepo")
METRICS = (
    "pass_at_1",
    "greedy_pass_at_1",
    "ir_pair_accuracy",
    "ir_matched_accuracy",
    "ir_group_accuracy",
    "ir_margin",
)
QUICK_SEEDS = (0, 1)
QUICK = (  # `--quick`: the same pipeline at a size that runs in CI (about 3 minutes on 2 cores)
    "sft.steps=40",
    "steps=3",
    "rollout.prompts_per_step=4",
    "preference.groups_per_step=2",
    "eval.max_tasks=12",
    "eval.n_samples=2",
    "eval.ir_groups=4",
    "checkpoint.every=2",
)


def row_labels(estimator: str) -> dict[str, str]:
    """The paper's row names (Table 4), with the on-policy half named after the estimator used."""
    from oorl.algos.advantages import ESTIMATOR_NAMES

    rl = ESTIMATOR_NAMES[estimator]
    return {
        "sft": "base (SFT)",
        "onpolicy": f"+ {rl}",
        "onpolicy+dpo": f"+ {rl} + DPO",
        "onpolicy+gepo": f"+ {rl} + GEPO (OORL)",
        "gepo": "+ GEPO",
        "dpo": "+ DPO",
    }


_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)  # fmt: skip
"""Student's t 0.975 quantiles for 1..30 degrees of freedom (1.96 beyond)."""


def variant_overrides(name: str) -> list[str] | None:
    """The config overrides that make variant `name` (None for `sft`: no training after SFT)."""
    if name == "sft":
        return None
    parts = name.split("+")
    unknown = sorted(set(parts) - {"onpolicy", "dpo", "gepo"})
    if unknown or len(set(parts)) != len(parts) or {"dpo", "gepo"} <= set(parts):
        raise AblationError(
            f"unknown variant {name!r}: use sft, or onpolicy, dpo, gepo joined by '+' "
            f"(dpo and gepo not together), e.g. {', '.join(DEFAULT_VARIANTS)}"
        )
    kind = "gepo" if "gepo" in parts else "dpo" if "dpo" in parts else "none"
    return [f"onpolicy.enabled={'onpolicy' in parts}", f"preference.kind={kind}"]


def t_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """The 95% Student-t interval of the mean of `values` (None for fewer than two)."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = (_T975[n - 2] if n - 1 <= len(_T975) else 1.96) * statistics.stdev(values) / math.sqrt(n)
    return (mean - half, mean + half)


# --- the cells -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One unit of work for a process: a seed's SFT (`variant` None) or a (variant, seed) cell."""

    config: dict  # the ablation's TrainConfig, as JSON
    root: str
    seed: int
    variant: str | None
    sandbox_workers: int
    progress: bool  # progress bars (off when cells run side by side)


def seed_dir(root: Path, seed: int) -> Path:
    return root / f"seed-{seed}"


def cell_dir(root: Path, variant: str, seed: int) -> Path:
    return seed_dir(root, seed) / variant


def result_path(root: Path, variant: str, seed: int) -> Path:
    return cell_dir(root, variant, seed) / "result.json"


def run_job(job: Job) -> dict:
    """Run `job` (in this process) and return what it wrote."""
    from oorl.eval.heldout import HeldoutEvaluator
    from oorl.sandbox import open_sandbox
    from oorl.train.demo import quiet_transformers
    from oorl.train.run import configure_threads, default_reward_fn, resolve_model_path, run_training
    from oorl.train.sft import run_sft

    quiet_transformers()
    root, seed = Path(job.root), job.seed
    base = config_from_dict(
        apply_overrides(
            job.config, [f"seed={seed}", f"out={seed_dir(root, seed)}", f"log.progress={job.progress}"]
        )
    )
    configure_threads(base)
    sft_path = seed_dir(root, seed) / "sft-model"
    path = result_path(root, job.variant or "sft", seed)
    scored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None  # stale scores
    t0 = time.perf_counter()
    if job.variant is None:
        from oorl.train.dist import Dist

        if not (sft_path / "config.json").exists():
            run_sft(
                base, model_path=resolve_model_path(base, Dist()), out=sft_path, log_dir=seed_dir(root, seed)
            )
        variant, cfg, model_path = "sft", base, sft_path
    else:
        variant = job.variant
        overrides = [*variant_overrides(variant), f"out={cell_dir(root, variant, seed)}"]
        cfg = config_from_dict(apply_overrides(base.model_dump(mode="json"), overrides))
    with open_sandbox(cfg.sandbox, workers=job.sandbox_workers) as sandbox:
        reward_fn = default_reward_fn(sandbox)
        evaluate = HeldoutEvaluator(cfg, reward_fn, sft_path, cache=seed_dir(root, seed) / "ir_reference.pt")
        if evaluate.ir_set is not None:
            evaluate.reference_logps()  # the SFT job computes it once per seed, for every cell
        if job.variant is not None:
            if scored is not None:  # trained and scored under other eval settings: score again only
                model_path = cell_dir(root, variant, seed) / "final-model"
            else:
                result = run_training(
                    cfg,
                    model_path=str(sft_path),
                    resume=True,
                    reward_fn=reward_fn,
                    progress_label=f"{variant} seed {seed}",
                )
                if result.interrupted:
                    raise AblationError(
                        f"{variant} seed {seed} stopped at step {result.steps_done}; "
                        "run the ablation again to resume it from its checkpoint"
                    )
                model_path = result.final_model
        t1 = time.perf_counter()
        scores = evaluate(model_path, f"{variant} seed {seed}", seed=seed).scores()
    record = {
        "variant": variant,
        "seed": seed,
        "scores": scores,
        "eval": cfg.eval.model_dump(mode="json"),
        "train_s": scored["train_s"] if scored is not None else t1 - t0,
        "eval_s": time.perf_counter() - t1,
        "heldout_tasks": len(evaluate.tasks),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a cell is finished exactly when this file exists
    return record


def _lock_folder(root: Path):
    """An open file holding `root`'s lock until it is closed: two ablations in one folder would train
    the same cell into one checkpoint folder. The lock also goes with the process, however it ends."""
    f = (root / ".lock").open("a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        holder = f.read().strip() or "?"
        f.close()
        raise AblationError(
            f"another ablation is running in {root} (pid {holder}); wait for it, stop it, or choose another --out"
        ) from None
    f.truncate(0)
    f.write(str(os.getpid()))
    f.flush()
    return f


def _die_with(parent: int) -> None:
    """A cell process's initializer: SIGKILL when the ablation that started it dies, rather than
    running on, orphaned, beside the same cell restarted by the next run (which resumes it from its
    last checkpoint). Not SIGTERM: an OORL cell takes that as a request for a clean stop, and the
    worker would then wait forever for its next cell. PR_SET_PDEATHSIG fires when the *thread* that
    forked us exits: the pool forks its processes from the thread that submits, the ablation's main
    thread."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os.kill(os.getpid(), signal.SIGKILL)


# --- the experiment --------------------------------------------------------------------------


def run_ablation(
    cfg: TrainConfig,
    out: str | Path,
    *,
    variants: Sequence[str] = DEFAULT_VARIANTS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    jobs: int = 1,
    echo=print,
) -> dict:
    """Run every missing cell, then write summary.json, report.md and ablation.png into `out`."""
    for v in variants:
        variant_overrides(v)  # unknown names fail before any work
    if "onpolicy" not in variants:
        log.warning("no 'onpolicy' variant: paired differences against it are left out")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    with _lock_folder(root):
        return _ablate(cfg, root, variants, seeds, jobs, echo)


def _ablate(
    cfg: TrainConfig, root: Path, variants: Sequence[str], seeds: Sequence[int], jobs: int, echo
) -> dict:
    """`run_ablation`'s work, in a folder this process holds the lock of."""
    current = config_from_dict(cfg.model_dump(mode="json") | {"out": str(root)})
    settings = current.model_dump(mode="json")
    stored = root / "config.yaml"
    if stored.exists():
        before = config_from_dict(yaml.safe_load(stored.read_text(encoding="utf-8"))).model_dump(mode="json")
        if _trained_by(before) != _trained_by(settings):
            raise AblationError(
                f"{root} holds an ablation of another config ({stored}); choose another --out "
                "(only eval.* may change: finished cells are then scored again)"
            )
    stored.write_text(dump_config(current), encoding="utf-8")

    t0 = time.perf_counter()
    workers = max(1, (cfg.sandbox_workers or len(os.sched_getaffinity(0))) // jobs)

    def make(seed: int, variant: str | None) -> Job:
        return Job(settings, str(root), seed, variant, workers, cfg.log.progress and jobs == 1)

    def state(variant: str, seed: int) -> str:
        """'new' (to train and score), 'done', or 'rescore' (scored under other eval settings)."""
        path = result_path(root, variant, seed)
        if not path.exists():
            return "new"
        scored_with = json.loads(path.read_text(encoding="utf-8")).get("eval")
        return "done" if scored_with == settings["eval"] else "rescore"

    cells = [(v, s) for s in seeds for v in variants if v != "sft"]
    states = {(v, s): state(v, s) for v, s in [("sft", s) for s in seeds] + cells}
    todo_sft = [s for s in seeds if states["sft", s] != "done"]
    todo = [(v, s) for v, s in cells if states[v, s] != "done"]
    rescore = sum(x == "rescore" for x in states.values())
    echo(
        f"ablation in {root}: {len(variants)} variants x {len(seeds)} seeds; to do: {len(todo_sft)} SFT, "
        f"{len(todo)} cells"
        + (
            f"; {rescore} of these trained already and are only scored again (eval settings changed)"
            if rescore
            else ""
        )
    )

    def finished(record: dict) -> None:
        r = record["scores"]
        ir = f", IR pair accuracy {r['ir_pair_accuracy']:.3f}" if "ir_pair_accuracy" in r else ""
        echo(
            f"  {record['variant']} seed {record['seed']}: pass@1 {r['pass_at_1']:.3f}, greedy "
            f"{r['greedy_pass_at_1']:.3f}{ir}  ({record['train_s'] + record['eval_s']:.0f} s)"
        )

    if jobs <= 1:
        for s in todo_sft:
            finished(run_job(make(s, None)))
        for v, s in todo:
            finished(run_job(make(s, v)))
    else:
        with ProcessPoolExecutor(
            max_workers=jobs, mp_context=get_context("spawn"), initializer=_die_with, initargs=(os.getpid(),)
        ) as pool:
            running = {pool.submit(run_job, make(s, None)): s for s in todo_sft}
            ready = [s for s in seeds if s not in todo_sft]  # their SFT is done: cells may start
            while running or ready:
                for s in ready:
                    running |= {pool.submit(run_job, make(s, v)): None for v, t in todo if t == s}
                ready = []
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in done:
                    record = f.result()  # a failed cell stops the ablation; finished cells are kept
                    finished(record)
                    if running.pop(f) is not None:
                        ready.append(record["seed"])
    summary = summarize(root, variants, seeds)
    summary["wall_s"] = time.perf_counter() - t0
    write_outputs(root, summary, cfg)
    return summary


def _trained_by(settings: dict) -> dict:
    """A config's settings less `eval`: all that the trained models depend on."""
    return {k: v for k, v in settings.items() if k != "eval"}


def summarize(root: Path, variants: Sequence[str], seeds: Sequence[int]) -> dict:
    """summary.json's content from the cells' result files."""
    records = {
        v: {s: json.loads(result_path(root, v, s).read_text(encoding="utf-8")) for s in seeds}
        for v in variants
    }
    out: dict = {"variants": {}, "seeds": list(seeds)}
    for v in variants:
        per_seed = {str(s): records[v][s]["scores"] for s in seeds}
        metrics = [m for m in METRICS if all(x.get(m) is not None for x in per_seed.values())]
        out["variants"][v] = {
            "seeds": per_seed,
            "mean": {m: statistics.fmean(x[m] for x in per_seed.values()) for m in metrics},
            "ci95": {m: t_interval([x[m] for x in per_seed.values()]) for m in metrics},
        }
    for against in ("onpolicy", "sft"):
        out[f"paired_vs_{against}"] = paired(out["variants"], against, seeds)
    out["heldout_tasks"] = records[variants[0]][seeds[0]]["heldout_tasks"]
    return out


def paired(rows: dict, against: str, seeds: Sequence[int]) -> dict:
    """{variant: {metric: 95% interval of (variant - against), paired by seed}}; {} without `against`."""
    if against not in rows:
        return {}
    base = rows[against]
    return {
        v: {
            m: t_interval([row["seeds"][str(s)][m] - base["seeds"][str(s)][m] for s in seeds])
            for m in METRICS
            if m in row["mean"] and m in base["mean"]
        }
        for v, row in rows.items()
        if v != against
    }


def write_outputs(root: Path, summary: dict, cfg: TrainConfig) -> None:
    (root / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (root / "report.md").write_text(render_report(summary, cfg), encoding="utf-8")
    plot_ablation(summary, root / "ablation.png")


# --- report ----------------------------------------------------------------------------------


def _cell(mean: float | None, ci: Sequence[float] | None) -> str:
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" if ci is None else f"{mean:.3f} ± {(ci[1] - ci[0]) / 2:.3f}"


def _diff(ci: Sequence[float] | None) -> str:
    if ci is None:
        return "n/a"
    mark = " *" if ci[0] > 0 or ci[1] < 0 else ""
    return f"{(ci[0] + ci[1]) / 2:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]{mark}"


def render_report(summary: dict, cfg: TrainConfig) -> str:
    from oorl.algos.advantages import ESTIMATOR_NAMES

    variants = list(summary["variants"])
    seeds = summary["seeds"]
    labels = row_labels(cfg.onpolicy.estimator)
    heads = (
        "held-out pass@1",
        "greedy pass@1",
        "IR pair accuracy",
        "IR matched-pair accuracy",
        "IR group accuracy",
        "IR margin",
    )
    lines = [
        "# Ablation: the paper's Table 4 at toy scale",
        "",
        f"{len(seeds)} seeds ({', '.join(map(str, seeds))}); every variant starts from its seed's SFT model. "
        f"{summary['heldout_tasks']} held-out translation tasks ({', '.join(cfg.data.source_langs)} -> "
        f"{', '.join(cfg.data.target_langs)}; pass@1 from {cfg.eval.n_samples} samples at temperature "
        f"{cfg.eval.temperature}, and greedy), held-out IR groups of C programs never trained on "
        f"(GEPO's implicit reward; 0.5 is chance). {cfg.steps} OORL steps after {cfg.sft.steps} SFT steps, "
        f"{cfg.rollout.prompts_per_step} prompts x {cfg.rollout.group_size} samples each, "
        f"{ESTIMATOR_NAMES[cfg.onpolicy.estimator]} at lr {cfg.optim.lr:g}; "
        f"preference weight {cfg.preference.weight}, beta {cfg.preference.beta}. "
        "Mean over seeds ± the half-width of its 95% t-interval.",
        "",
        "| model | " + " | ".join(heads) + " |",
        "|---|" + "---:|" * len(heads),
    ]
    for v in variants:
        row = summary["variants"][v]
        lines.append(
            f"| {labels.get(v, v)} | "
            + " | ".join(_cell(row["mean"].get(m), row["ci95"].get(m)) for m in METRICS)
            + " |"
        )
    for against in ("onpolicy", "sft"):
        if summary[f"paired_vs_{against}"]:
            lines += [
                "",
                f"Paired differences against `{against}` (same seed): mean [95% interval]; * marks an "
                "interval that excludes 0.",
                "",
                "| model | " + " | ".join(heads) + " |",
                "|---|" + "---:|" * len(heads),
            ]
            for v, diffs in summary[f"paired_vs_{against}"].items():
                lines.append(
                    f"| {labels.get(v, v)} | " + " | ".join(_diff(diffs.get(m)) for m in METRICS) + " |"
                )
    langs = sorted(
        {
            lang
            for v in variants
            for x in summary["variants"][v]["seeds"].values()
            for lang in x["per_language"]
        }
    )
    lines += ["", "Held-out pass@1 per target language (mean over seeds):", ""]
    lines += ["| model | " + " | ".join(langs) + " |", "|---|" + "---:|" * len(langs)]
    for v in variants:
        per = summary["variants"][v]["seeds"].values()
        lines.append(
            f"| {labels.get(v, v)} | "
            + " | ".join(
                f"{statistics.fmean(x['per_language'].get(lang, 0.0) for x in per):.3f}" for lang in langs
            )
            + " |"
        )
    lines += ["", "Per seed (pass@1 / greedy / IR pair accuracy):", ""]
    lines += ["| model | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---:|" * len(seeds)]
    for v in variants:
        cells = []
        for s in seeds:
            x = summary["variants"][v]["seeds"][str(s)]
            ir = f" / {x['ir_pair_accuracy']:.3f}" if "ir_pair_accuracy" in x else ""
            cells.append(f"{x['pass_at_1']:.3f} / {x['greedy_pass_at_1']:.3f}{ir}")
        lines.append(f"| {labels.get(v, v)} | " + " | ".join(cells) + " |")
    lines += ["", "![ablation](ablation.png)", ""]
    return "\n".join(lines)


def contrasts(summary: dict) -> list[tuple[str, str, str]]:
    """The paired comparisons the report tabulates, as (variant, against, label): every variant
    against the SFT model it started from, and every other variant against on-policy training alone."""
    variants = list(summary["variants"])
    out = [(v, "sft") for v in variants if v != "sft" and "sft" in variants]
    out += [(v, "onpolicy") for v in variants if v not in ("sft", "onpolicy") and "onpolicy" in variants]
    return [(v, against, v.replace("+", "+\n") + f"\n− {against}") for v, against in out]


def plot_ablation(summary: dict, path: Path) -> None:
    """One column per metric. Top: bars (mean over seeds) with 95% intervals and the seeds as dots.
    Bottom: the paired differences of `contrasts`, where the effects show: the spread between seeds
    that the top row's intervals carry cancels when a variant is compared on its own seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(summary["variants"])
    seeds = [str(s) for s in summary["seeds"]]
    panels = [
        m
        for m in ("pass_at_1", "greedy_pass_at_1", "ir_pair_accuracy", "ir_matched_accuracy")
        if m in summary["variants"][variants[0]]["mean"]
    ]
    titles = {
        "pass_at_1": "held-out pass@1",
        "greedy_pass_at_1": "greedy pass@1",
        "ir_pair_accuracy": "held-out IR pair accuracy",
        "ir_matched_accuracy": "IR matched-pair accuracy",
    }
    pairs = contrasts(summary)
    rows = 2 if pairs else 1
    fig, axes = plt.subplots(rows, len(panels), figsize=(4.2 * len(panels), 3.8 * rows), squeeze=False)
    for ax, m in zip(axes[0], panels, strict=True):
        for i, v in enumerate(variants):
            row = summary["variants"][v]
            mean, ci = row["mean"][m], row["ci95"][m]
            err = [[mean - ci[0]], [ci[1] - mean]] if ci else None
            ax.bar(i, mean, color=f"C{i}", alpha=0.75, yerr=err, capsize=4)
            dots = [x[m] for x in row["seeds"].values()]
            ax.scatter([i] * len(dots), dots, color="k", s=10, zorder=3)
        if m.startswith("ir_"):
            ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xticks(range(len(variants)), [v.replace("+", "+\n") for v in variants], fontsize=8)
        ax.set_title(titles[m])
    second_row = zip(axes[1], panels, strict=True) if pairs else ()
    for ax, m in second_row:
        for i, (v, against, _) in enumerate(pairs):
            a, b = summary["variants"][v]["seeds"], summary["variants"][against]["seeds"]
            diffs = [a[s][m] - b[s][m] for s in seeds]
            mid, ci = statistics.fmean(diffs), summary[f"paired_vs_{against}"][v].get(m)
            err = [[mid - ci[0]], [ci[1] - mid]] if ci else None
            colour = f"C{variants.index(v)}"
            ax.errorbar(i, mid, yerr=err, fmt="D", color=colour, capsize=5, ms=6)
            ax.scatter([i + 0.15] * len(diffs), diffs, color="k", s=8, zorder=3)
        ax.axhline(0, color="grey", lw=0.8)
        split = sum(against == "sft" for _, against, _ in pairs)
        if 0 < split < len(pairs):
            ax.axvline(split - 0.5, color="grey", lw=0.6, ls=":")
        ax.set_xticks(range(len(pairs)), [label for *_, label in pairs], fontsize=7)
        ax.set_xlim(-0.6, len(pairs) - 0.4)
        ax.set_title(f"{titles[m]}: paired difference", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
