"""`oorl ir`: build IR groups for GEPO, replay their witnesses, and report per-operator rates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="IR groups for GEPO: winners from clang -O0..-Oz, losers with witnesses.", no_args_is_help=True
)


@app.command()
def build(
    files: Annotated[list[Path] | None, typer.Argument(help="function-level C files (no main)")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="group JSONL to append to")] = Path("groups.jsonl"),
    problems: Annotated[
        Path | None, typer.Option(help="Problem JSONL: each C solution with its stdio test inputs")
    ] = None,
    sltrans: Annotated[
        list[str] | None,
        typer.Option(help="SLTrans JSONL file(s); 'hub' loads UKPLab/SLTrans with `datasets`"),
    ] = None,
    sltrans_split: Annotated[
        str, typer.Option(help="Perf_Optimized (-O3 IR) or Size_Optimized (-Oz IR)")
    ] = "Perf_Optimized",
    limit: Annotated[int | None, typer.Option(help="build at most this many sources")] = None,
    max_winners: Annotated[int, typer.Option(help="most winners per group")] = 4,
    max_losers: Annotated[int, typer.Option(help="most losers per group")] = 4,
    min_winners: Annotated[int, typer.Option(help="fewer distinct winners: skip the source")] = 2,
    min_losers: Annotated[int, typer.Option(help="fewer witnessed losers: skip the source")] = 2,
    max_mutants_run: Annotated[int, typer.Option(help="most mutants executed per group")] = 16,
    max_ir_chars: Annotated[int | None, typer.Option(help="drop winners longer than this")] = None,
    function_inputs: Annotated[int, typer.Option(help="driver inputs per function")] = 32,
    input_timeout: Annotated[
        float, typer.Option(help="seconds per input before a run counts as a hang")
    ] = 1.0,
    witness_runs: Annotated[
        int, typer.Option(help="re-executions of each witness; every one must reproduce it")
    ] = 2,
    sanitize: Annotated[
        bool, typer.Option(help="drop inputs on which the source has undefined behaviour")
    ] = True,
    exit_code_losers: Annotated[
        bool, typer.Option(help="keep losers that differ only in main's exit status")
    ] = False,
    seed: Annotated[int, typer.Option(help="mutant sampling and driver inputs")] = 0,
    workers: Annotated[int | None, typer.Option(help="sandbox workers (default: one per core)")] = None,
    retry_skipped: Annotated[bool, typer.Option(help="retry sources listed in the skipped sidecar")] = False,
) -> None:
    """Build groups from C sources (problems, C files, SLTrans); resumable, appends to --out."""
    import itertools

    from rich.console import Console

    from oorl.ir import sources
    from oorl.ir.build import build_all
    from oorl.ir.config import IRBuildConfig
    from oorl.sandbox import open_sandbox

    if not files and problems is None and not sltrans:
        raise typer.BadParameter("give C files, --problems or --sltrans")
    try:
        cfg = IRBuildConfig(
            max_winners=max_winners, max_losers=max_losers, min_winners=min_winners, min_losers=min_losers,
            max_mutants_run=max_mutants_run, max_ir_chars=max_ir_chars, function_inputs=function_inputs,
            input_timeout_s=input_timeout, witness_runs=witness_runs, sanitize=sanitize,
            exit_code_losers=exit_code_losers, seed=seed,
        )  # fmt: skip
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    iters = []
    if problems is not None:
        iters.append(sources.from_problems(problems))
    if files:
        iters.append(sources.from_c_files(files))
    if sltrans:
        data_files = None if sltrans == ["hub"] else [str(p) for p in sltrans]
        iters.append(sources.from_sltrans(data_files, split=sltrans_split))
    items = list(itertools.islice(itertools.chain(*iters), limit))
    console = Console(stderr=True)
    with open_sandbox(workers=workers) as sb:
        summary = build_all(items, out, cfg, sb, retry_skipped=retry_skipped, total=len(items))
    skipped = ", ".join(f"{k} {v}" for k, v in sorted((summary.skipped or {}).items())) or "none"
    console.print(
        f"built {summary.built} groups -> {out}; already there {summary.resumed}; skipped: {skipped}",
        soft_wrap=True,
    )


@app.command()
def replay(
    groups: Annotated[Path, typer.Argument(help="group JSONL")],
    workers: Annotated[int | None, typer.Option(help="sandbox workers")] = None,
    input_timeout: Annotated[
        float, typer.Option(help="seconds per input before a run counts as a hang")
    ] = 1.0,
) -> None:
    """Re-execute every witness in the sandbox; exit 1 if any no longer holds."""
    from rich.console import Console
    from rich.progress import track

    from oorl.ir.replay import ReplaySettings, replay_group
    from oorl.ir.schema import IRGroup
    from oorl.jsonl import read_jsonl
    from oorl.sandbox import open_sandbox

    console = Console(stderr=True)
    rows = read_jsonl(groups, IRGroup)
    problems: list[str] = []
    with open_sandbox(workers=workers) as sb:
        for g in track(rows, description="replaying witnesses", console=console):
            problems += replay_group(g, sb, ReplaySettings(input_timeout_s=input_timeout))
    n = sum(len(g.losers) for g in rows)
    for p in problems:
        console.print(f"[red]FAILED[/red] {p}", soft_wrap=True)
    console.print(f"{len(rows)} groups, {n} witnesses: {len(problems)} no longer hold", soft_wrap=True)
    if problems:
        raise typer.Exit(1)


@app.command()
def stats(
    groups: Annotated[Path, typer.Argument(help="group JSONL (its .skipped.jsonl sidecar is read too)")],
) -> None:
    """Per-operator validity and inequivalence rates, group sizes, and why sources were skipped."""
    from rich.console import Console
    from rich.table import Table

    from oorl.ir.stats import collect, rate

    s = collect(groups)
    table = Table(title=f"mutation operators ({groups})")
    for col in (
        "operator",
        "tried",
        "valid",
        "valid%",
        "run",
        "witnessed",
        "unconfirmed",
        "ineq%",
        "out/exit/crash/hang",
        "losers",
    ):
        table.add_column(col, justify="left" if col == "operator" else "right")
    for op, c in sorted(s.operators.items()):
        kinds = "/".join(str(c.kinds.get(k, 0)) for k in ("output", "exit_code", "crash", "timeout"))
        table.add_row(op, str(c.attempted), str(c.valid), rate(c.valid, c.attempted), str(c.executed),
                      str(c.witnessed), str(sum(c.unconfirmed.values())), rate(c.witnessed, c.executed), kinds,
                      str(s.losers_by_operator[op]))  # fmt: skip
    console = Console()
    console.print(table)
    per = (lambda n: f"{n / s.groups:.1f}") if s.groups else (lambda n: "-")
    console.print(
        f"groups {s.groups}; winners/group {per(s.winners)}; losers/group {per(s.losers)}; "
        f"mean IR chars {s.ir_chars // max(1, s.winners + s.losers)}; "
        f"witness kinds {dict(s.witness_kinds)}; skipped {dict(s.skipped) or 'none'}",
        soft_wrap=True,
    )
