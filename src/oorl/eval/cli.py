"""`oorl eval`: run a bench (`oorl eval --model M --bench B --out DIR`) and compare two runs
(`oorl eval compare DIR_A DIR_B`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from oorl.eval.backends import BACKENDS
from oorl.eval.benches import BENCHES

app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="Evaluate a model on a bench (pass@k, sandbox-judged), or compare two evaluation runs.",
)
console = Console(stderr=True)
out = Console()


def _fail(message: str) -> typer.Exit:
    console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)
    return typer.Exit(2)


def _ints(spec: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in spec.split(",") if x.strip())
    except ValueError:
        raise _fail(f"{flag} takes comma-separated integers, e.g. 1,10; got {spec!r}") from None


@app.callback()
def eval_(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option(help="model: HF hub id, local folder, or the served model's name")
    ] = None,
    bench: Annotated[str | None, typer.Option(help=f"one of: {', '.join(BENCHES)}")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="output folder (samples.jsonl, summary.json, report.md, PNGs)"),
    ] = None,
    langs: Annotated[
        str | None,
        typer.Option(help="languages (comma-separated), or SRC->TGT directions for translation benches"),
    ] = None,
    n_samples: Annotated[int, typer.Option(help="samples per problem")] = 1,
    temperature: Annotated[
        float, typer.Option(help="sampling temperature; 0 = greedy (with --n-samples 1)")
    ] = 0.0,
    k: Annotated[
        str, typer.Option("--k", help="pass@k to report, comma-separated; each k <= n-samples")
    ] = "1,10",
    backend: Annotated[str, typer.Option(help=f"one of: {', '.join(BACKENDS)}")] = "hf",
    base_url: Annotated[
        str | None, typer.Option(help="openai backend: the server, e.g. http://localhost:8000/v1")
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="openai backend: environment variable holding the API key")
    ] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(help="openai backend: requests in flight")] = 32,
    limit: Annotated[
        int | None, typer.Option(help="only the first K problems of each language / direction")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="continue the run in --out: finished samples are kept, not redone")
    ] = False,
    max_new_tokens: Annotated[int, typer.Option(help="longest completion")] = 1024,
    batch_size: Annotated[
        int, typer.Option(help="prompts per generate call (openai: per wave of requests)")
    ] = 64,
    workers: Annotated[int | None, typer.Option(help="parallel sandbox runs (default: one per core)")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    data: Annotated[
        str | None, typer.Option(help="the bench's data folder instead of the bundled copy")
    ] = None,
    progress: Annotated[bool, typer.Option(help="show progress bars")] = True,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from oorl.eval.backends import make_generator
    from oorl.eval.benches import load_bench
    from oorl.eval.run import RunSettings, evaluate

    if bench is None or out_dir is None:
        raise _fail(
            "oorl eval needs --bench and --out (and --model unless --backend is reference or shuffled)"
        )
    model_name = model or backend
    try:
        settings = RunSettings(
            model=model_name,
            n_samples=n_samples,
            temperature=temperature,
            ks=_ints(k, "--k"),
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            seed=seed,
        )
        b = load_bench(bench, langs.split(",") if langs else None, data=data, limit=limit)
        if not b.items:
            raise _fail(f"{bench}: nothing to evaluate")
        generator = make_generator(
            backend, model, b.items, base_url=base_url, api_key_env=api_key_env, concurrency=concurrency
        )
        skipped = [x for x in settings.ks if x > n_samples]
        if skipped:
            console.print(
                f"pass@{','.join(map(str, skipped))} skipped: it needs at least that many samples (--n-samples)"
            )
        summary = evaluate(b, generator, out_dir, settings, workers=workers, resume=resume, progress=progress)
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        raise _fail(str(e)) from None
    table = Table(title=f"{summary['bench']}: {summary['model']} ({summary['problems']} problems)")
    table.add_column("language / direction")
    for kk in summary["pass_at_k"]:
        table.add_column(f"pass@{kk}", justify="right")
    keys = list(next(iter(summary["pass_at_k"].values()), {}))
    for key in keys:
        table.add_row(
            key, *(f"{summary['pass_at_k'][kk].get(key, float('nan')):.3f}" for kk in summary["pass_at_k"])
        )
    table.add_row(
        "overall", *(f"{summary['overall'].get(kk, float('nan')):.3f}" for kk in summary["pass_at_k"])
    )
    out.print(table)
    if summary["excluded"]:
        console.print(
            f"{len(summary['excluded'])} items excluded as known data defects (listed in report.md)"
        )
    console.print(f"wrote {out_dir}/summary.json and report.md")


@app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(help="the baseline run's --out folder")],
    run_b: Annotated[Path, typer.Argument(help="the other run's --out folder")],
    markdown: Annotated[Path | None, typer.Option(help="also write the table as Markdown here")] = None,
    reps: Annotated[int, typer.Option(help="bootstrap replicates")] = 10_000,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
) -> None:
    """pass@1 deltas (B - A) per language or direction, with paired bootstrap 95% intervals."""
    from oorl.eval.compare import compare_runs, deltas_markdown

    try:
        deltas = compare_runs(run_a, run_b, reps=reps, seed=seed)
    except (ValueError, FileNotFoundError) as e:
        raise _fail(str(e)) from None
    table = Table(title=f"B - A   (A: {run_a}, B: {run_b})")
    for col in ("language / direction", "problems", "A", "B", "B - A", "95% CI", ""):
        table.add_column(col, justify="right" if col not in ("language / direction", "") else "left")
    for d in deltas:
        table.add_row(
            d.key,
            str(d.problems),
            f"{d.a:.3f}",
            f"{d.b:.3f}",
            f"{d.delta:+.3f}",
            f"[{d.low:+.3f}, {d.high:+.3f}]",
            "[bold]*[/]" if d.significant else "",
        )
    out.print(table)
    out.print("*: the paired bootstrap 95% interval excludes 0")
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(deltas_markdown(deltas, str(run_a), str(run_b)), encoding="utf-8")
        console.print(f"wrote {markdown}")
