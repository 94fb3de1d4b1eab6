"""Commands: `oorl demo`, `oorl ablate`, `oorl train`, `oorl plan`, `oorl sft`, `oorl model tiny`.

Heavy libraries (torch, transformers) are imported inside the commands so `oorl --help` stays fast.
Every command validates its config first: a bad field is reported before any model is loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oorl.config import ConfigError, TrainConfig, load_config

app = typer.Typer(help="Train code LLMs with OORL.", no_args_is_help=True, add_completion=False)
model_app = typer.Typer(help="Build models.", no_args_is_help=True)
app.add_typer(model_app, name="model")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML recipe (see configs/)")]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", "-s", help="override a field: KEY=VALUE, e.g. optim.lr=1e-5")
]


def _config(config: Path | None, overrides: list[str] | None, *, out: Path | None = None) -> TrainConfig:
    extra = list(overrides or []) + ([f"out={out}"] if out is not None else [])
    try:
        return load_config(config, extra)
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="report folder")] = Path("runs/demo"),
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """The main job on a CPU: tiny model -> SFT -> OORL -> held-out pass@1 before/after -> report."""
    from oorl.train.demo import demo_config, run_demo

    try:
        cfg = _config(config, set_, out=out) if config else demo_config([*(set_ or []), f"out={out}"])
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    summary = run_demo(cfg)
    p = summary["heldout_pass_at_1"]
    typer.echo(f"held-out pass@1: SFT {p['sft']:.3f} -> OORL {p['oorl']:.3f}  ({summary['wall_s']:.0f} s)")
    typer.echo(f"report: {Path(cfg.out) / 'report.md'}")


@app.command()
def train(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    model: Annotated[
        str | None, typer.Option(help="start from this model (overrides model.name_or_path)")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="continue from the newest checkpoint in <out>/checkpoints")
    ] = False,
) -> None:
    """OORL training (REINFORCE++ + GEPO); run under `torchrun --nproc_per_node N` for data parallelism."""
    cfg = _config(config, set_)
    from oorl.train.demo import quiet_transformers
    from oorl.train.run import run_training

    quiet_transformers()
    result = run_training(cfg, model_path=model, resume=resume)
    state = "interrupted, checkpoint saved" if result.interrupted else "done"
    typer.echo(f"{state}: {result.steps_done} steps in {result.wall_s:.0f} s; outputs in {result.out}")


@app.command()
def ablate(
    out: Annotated[Path, typer.Option(help="ablation folder (resumed when it exists)")] = Path(
        "runs/ablation"
    ),
    config: ConfigOpt = None,
    set_: SetOpt = None,
    variants: Annotated[
        str, typer.Option(help="comma-separated: sft, onpolicy, onpolicy+dpo, onpolicy+gepo, gepo")
    ] = "sft,onpolicy,onpolicy+dpo,onpolicy+gepo",
    seeds: Annotated[
        str | None, typer.Option(help="comma-separated seeds (default 0,1,2,3,4; --quick: 0,1)")
    ] = None,
    quick: Annotated[
        bool, typer.Option(help="a reduced run (2 seeds, few steps) for CI, a few minutes")
    ] = False,
    jobs: Annotated[int, typer.Option(min=1, help="cells run at once, each in its own process")] = 1,
) -> None:
    """The paper's Table 4 at toy scale: every variant from each seed's SFT model, held-out pass@1
    and GEPO's held-out IR accuracy, mean and 95% intervals over seeds, paired against onpolicy."""
    from oorl.train.ablate import QUICK, QUICK_SEEDS, AblationError, run_ablation
    from oorl.train.demo import demo_config

    overrides = [*(QUICK if quick else ()), *(set_ or [])]
    try:
        cfg = _config(config, overrides) if config else demo_config(overrides)
    except ConfigError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    try:
        seed_list = [int(x) for x in seeds.split(",")] if seeds else list(QUICK_SEEDS if quick else range(5))
    except ValueError:
        typer.echo(f"error: --seeds must be comma-separated integers, got {seeds!r}", err=True)
        raise typer.Exit(2) from None
    try:
        summary = run_ablation(
            cfg,
            out,
            variants=[v.strip() for v in variants.split(",") if v.strip()],
            seeds=seed_list,
            jobs=jobs,
            echo=typer.echo,
        )
    except AblationError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"report: {out / 'report.md'}  ({summary['wall_s']:.0f} s)")


@app.command()
def plan(
    config: ConfigOpt = None,
    set_: SetOpt = None,
    gpus: Annotated[int, typer.Option(help="GPUs the run is spread over")] = 1,
    gpu_mem_gb: Annotated[float, typer.Option(help="memory of one GPU, GiB")] = 80.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Per-GPU memory of the configured run for every engine / ZeRO stage / offload (no weights loaded)."""
    cfg = _config(config, set_)
    from oorl.train.plan import plan as make_plan
    from oorl.train.plan import render, to_json

    try:
        result = make_plan(cfg, gpus, gpu_mem_gb)
    except ValueError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(to_json(result) if as_json else render(result))


@app.command()
def sft(
    out: Annotated[Path, typer.Option(help="where the fine-tuned model is saved")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
    model: Annotated[
        str | None, typer.Option(help="model to fine-tune (default: model.name_or_path)")
    ] = None,
) -> None:
    """Supervised warm-up on parallel translation pairs (answer tokens only), in the RL prompt format."""
    cfg = _config(config, set_)
    if cfg.sft.steps < 1:
        typer.echo("error: sft.steps must be >= 1 for `oorl sft` (use --set sft.steps=N)", err=True)
        raise typer.Exit(2)
    from oorl.train.demo import quiet_transformers
    from oorl.train.dist import Dist
    from oorl.train.run import configure_threads, resolve_model_path
    from oorl.train.sft import run_sft

    quiet_transformers()
    configure_threads(cfg)
    path = model or resolve_model_path(cfg, Dist())
    typer.echo(f"saved {run_sft(cfg, model_path=path, out=out)}")


@model_app.command("tiny")
def model_tiny(
    out: Annotated[Path, typer.Option(help="folder for the model and tokenizer")],
    config: ConfigOpt = None,
    set_: SetOpt = None,
) -> None:
    """Build the tiny Qwen2 model and train its byte-level BPE tokenizer on the bundled code."""
    cfg = _config(config, set_)
    from oorl.train.demo import quiet_transformers
    from oorl.train.model import build_tiny_model, count_parameters
    from oorl.train.run import bundled_texts

    quiet_transformers()
    m, tok = build_tiny_model(out, bundled_texts(cfg), cfg.tiny, seed=cfg.seed)
    typer.echo(f"built {out}: {count_parameters(m):,} parameters, vocabulary {len(tok)}")


if __name__ == "__main__":  # `python -m oorl.train.cli` (also how torchrun starts ranks)
    sys.exit(app())
