"""`oorl data`: build translation task sets and generate verified synthetic problems."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Translation data: verified synthetic problems and task sets.", no_args_is_help=True)


@app.command()
def synth(
    n: Annotated[int, typer.Option("--n", help="number of problems")] = 24,
    seed: Annotated[int, typer.Option(help="generator seed (same seed, same problems)")] = 0,
    out: Annotated[Path, typer.Option(help="output JSON Lines of Problems")] = Path("synthetic.jsonl"),
    tests: Annotated[int, typer.Option(help="stdio tests per problem")] = 5,
    workers: Annotated[int | None, typer.Option(help="sandbox workers (default: one per core)")] = None,
    stmts: Annotated[int, typer.Option(help="top-level statements per program (size knob)")] = 4,
    depth: Annotated[int, typer.Option(help="deepest nesting of ifs and loops (depth knob)")] = 2,
    languages: Annotated[
        str | None, typer.Option(help="comma-separated languages to render (default: all 13)")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="generate exactly the problems of this training config's data.synthetic (e.g. the demo's, "
            "configs/tiny_cpu.yaml); --n, --seed, --tests, --stmts and --depth are then taken from it"
        ),
    ] = None,
) -> None:
    """Generate N programs, render them in 13 languages, judge every rendering in the sandbox, write Problems."""
    from rich.console import Console

    from oorl.jsonl import write_jsonl
    from oorl.langs import canonical_language
    from oorl.sandbox import Sandbox
    from oorl.tasks.synthetic.generate import LANGUAGES, SynthesisError, candidates, verify
    from oorl.tasks.synthetic.program import GenConfig

    console = Console()
    langs = tuple(canonical_language(x) for x in languages.split(",")) if languages else LANGUAGES
    start = time.perf_counter()
    if config is not None:
        from oorl.config import load_config
        from oorl.train.data import synthetic_problems

        settings = load_config(config).data.synthetic
        if settings is None:
            console.print(f"[red]{config} has no data.synthetic section[/red]")
            raise typer.Exit(2)
        problems = synthetic_problems(settings.model_copy(update={"verify": False}))
        n = len(problems)
    else:
        problems = candidates(n, seed, GenConfig(n_stmts=stmts, max_nesting=depth), n_tests=tests)
    with Sandbox(workers=workers) as sb:
        try:
            seconds = verify(sb, problems, langs, progress=f"verifying {n} problems x {len(langs)} languages")
        except SynthesisError as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
    problems = [p.model_copy(update={"solutions": {lg: p.solutions[lg] for lg in langs}}) for p in problems]
    write_jsonl(out, problems)
    wall = time.perf_counter() - start
    console.print(
        f"wrote {len(problems)} verified problems ({len(langs)} languages each) to {out} "
        f"in {wall:.1f} s ({60 * len(problems) / wall:.1f} problems/min)"
    )
    console.print("sandbox seconds per language: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))


@app.command()
def build(
    source: Annotated[
        list[str],
        typer.Option(
            help="problem source, repeatable: synthetic | humaneval-x | apps[:PATH_OR_ID] | taco[:PATH_OR_ID] | "
            "synthetic-1[:PATH_OR_ID] | jsonl:PATH"
        ),
    ],
    pairs: Annotated[
        str, typer.Option(help="language pairs SOURCE:TARGET, comma-separated, e.g. python:cpp,cpp:java")
    ],
    out: Annotated[Path, typer.Option(help="output task JSON Lines")] = Path("tasks.jsonl"),
    test_fraction: Annotated[
        float, typer.Option(help="fraction of problems held out as the test split")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="split seed")] = 0,
    split: Annotated[str | None, typer.Option(help="hub split to read (default: train)")] = None,
) -> None:
    """Build a translation task set: de-duplicated, split by problem, evaluation-only data refused."""
    from rich.console import Console
    from rich.table import Table

    from oorl.jsonl import write_jsonl
    from oorl.tasks.build import build_tasks, pair_counts
    from oorl.tasks.sources import load_source
    from oorl.tasks.translation import EvalOnlyError, parse_pairs

    console = Console()
    try:
        pair_list = parse_pairs(pairs)
        problems = [p for spec in source for p in load_source(spec, split=split)]
        tasks = build_tasks(problems, pair_list, test_fraction=test_fraction, seed=seed)
    except (EvalOnlyError, ValueError) as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    write_jsonl(out, tasks)
    table = Table(title=f"{len(tasks)} tasks from {len(problems)} problems -> {out}")
    for col in ("source", "target", "train", "test"):
        table.add_column(col, justify="right" if col in ("train", "test") else "left")
    for (s, t), c in sorted(pair_counts(tasks).items()):
        table.add_row(s, t, str(c["train"]), str(c["test"]))
    console.print(table)
