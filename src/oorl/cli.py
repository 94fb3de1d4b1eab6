"""The `oorl` command. Heavy imports (torch, datasets) stay inside the commands that need them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from oorl.langs import LANGUAGES, UnknownLanguageError, get_language

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Train code LLMs for every language with OORL; judge programs in a secure 13-language sandbox.",
)
sandbox_app = typer.Typer(no_args_is_help=True, help="Run programs in the sandbox.")
app.add_typer(sandbox_app, name="sandbox")
console = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` (verbatim: no markup, no wrapping inside paths) and return the exit to raise."""
    console.print(Text("error: ", style="bold red") + Text(message), soft_wrap=True)
    return typer.Exit(code)


@app.command()
def doctor(
    run: Annotated[bool, typer.Option("--run", help="also judge a small program in every language")] = False,
) -> None:
    """List each language's toolchain version, or what is missing and which Debian package provides it."""
    from oorl.sandbox.isolation import capabilities
    from oorl.sandbox.judge import missing_toolchain

    verdicts = _sample_verdicts() if run else {}
    table = Table(title="sandbox languages")
    for col in ("language", "aliases", "toolchain", "status", *(["sandboxed a+b"] if run else [])):
        table.add_column(col)
    missing = 0
    for lang in LANGUAGES.values():
        problem = missing_toolchain(lang)
        if problem:
            missing += 1
            table.add_row(lang.name, ", ".join(lang.aliases), "-", f"[red]missing[/]: {problem}")
            continue
        try:
            proc = subprocess.run(lang.version_argv, capture_output=True, text=True, timeout=30)
            version = (proc.stdout or proc.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError) as e:
            version = f"? ({e})"
        table.add_row(
            lang.name,
            ", ".join(lang.aliases),
            version,
            "[green]ok[/]",
            *([verdicts.get(lang.name, "-")] if run else []),
        )
    out.print(table)
    caps = capabilities()
    out.print(
        f"isolation: bwrap={caps.bwrap or 'MISSING (apt-get install bubblewrap)'} (started once per worker "
        f"slot; runs start inside it), run server built with {caps.cc or 'MISSING (apt-get install gcc)'}, "
        f"uids={'one per slot' if caps.root else 'already unprivileged'}"
    )
    out.print(f"memory limit: {caps.memory_enforcement}")
    out.print(f"process limit: {caps.process_enforcement}")
    if missing or caps.bwrap is None or caps.cc is None:
        raise typer.Exit(1)


def _sample_verdicts() -> dict[str, str]:
    from oorl.sandbox import JudgeRequest, Sandbox, StdioTest
    from oorl.sandbox.samples import ADD

    requests = [
        JudgeRequest(language=lang, code=code, tests=[StdioTest(stdin="40 2\n", expected="42\n")])
        for lang, code in ADD.items()
    ]
    with Sandbox() as sb:
        results = sb.judge_many(requests, progress="judging a+b in every language")
    return {
        r.language: f"{res.verdict.value} ({res.time_s:.2f} s)"
        for r, res in zip(requests, results, strict=True)
    }


def _read_code(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as e:
        raise fail(f"cannot read {file}: {e.strerror}") from None


def _language_or_exit(name: str):
    try:
        return get_language(name)
    except UnknownLanguageError as e:
        raise fail(str(e)) from None


@sandbox_app.command("run")
def sandbox_run(
    file: Annotated[Path, typer.Argument(help="the program's source file")],
    lang: Annotated[str, typer.Option("--lang", "-l", help="language or alias, e.g. python, c++, ts")],
    stdin: Annotated[Path | None, typer.Option(help="file to feed on standard input")] = None,
    timeout: Annotated[float, typer.Option(help="wall-clock seconds per run")] = 5.0,
    memory_mb: Annotated[int, typer.Option(help="memory limit in MiB")] = 512,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Compile and run one program in the sandbox. Exit 0 within limits is accepted, non-zero runtime_error."""
    from oorl.sandbox import Limits, Sandbox
    from oorl.sandbox.judge import missing_toolchain

    language = _language_or_exit(lang)
    raw = _read_code(file)
    try:
        code = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail(f"{file} is not UTF-8 text (byte {e.start})") from None
    if not code.strip():
        raise fail(f"{file} is empty: there is no program to run")
    if problem := missing_toolchain(language, code):
        raise fail(problem)
    stdin_text = _read_code(stdin).decode("utf-8", errors="replace") if stdin else None
    with Sandbox(workers=1, limits=Limits(time_s=timeout, memory_mb=memory_mb)) as sb:
        result = sb.run(language.name, code, stdin=stdin_text)
    run = result.tests[0] if result.tests else None
    record = {
        "verdict": result.verdict.value,
        "exit_code": run.exit_code if run else None,
        "stdout": run.stdout if run else "",
        "stderr": run.stderr if run else "",
        "time_s": run.time_s if run else 0.0,
        "compile": result.compile.model_dump() if result.compile else None,
        "detail": result.detail,
    }
    if as_json:
        out.print_json(json.dumps(record))
    else:
        if result.compile and result.compile.output.strip():
            console.print(result.compile.output.rstrip())
        sys.stdout.write(record["stdout"])
        sys.stderr.write(record["stderr"])
        color = "green" if result.accepted else "red"
        console.print(f"[{color}]{result.verdict.value}[/] {result.detail} ({record['time_s']:.3f} s)")
    raise typer.Exit(0 if result.accepted else 1)


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[
        str, typer.Option(help="address to bind; any but loopback needs --token-file")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0: any free one, printed at start)")] = 8080,
    token_file: Annotated[Path | None, typer.Option(help="file holding the bearer token")] = None,
    workers: Annotated[int | None, typer.Option(help="worker slots (default: one per core)")] = None,
    max_queue: Annotated[int, typer.Option(help="programs waiting for a slot before 429")] = 256,
    max_body_mb: Annotated[float, typer.Option(help="largest request body in MiB before 413")] = 64,
    timeout: Annotated[float, typer.Option(help="default wall-clock seconds per run")] = 5.0,
    memory_mb: Annotated[int, typer.Option(help="default memory limit per run in MiB")] = 512,
) -> None:
    """Serve the sandbox over HTTP: SandboxFusion's /run_code, /v1/judge, /v1/run, /healthz, /readyz, /metrics."""
    from pydantic import ValidationError

    from oorl.sandbox import Limits
    from oorl.sandbox.service import ServeSettings, read_token, serve

    try:
        token = read_token(token_file) if token_file else None
        settings = ServeSettings(
            host=host,
            port=port,
            token=token,
            max_queue=max_queue,
            max_body_mb=max_body_mb,
            limits=Limits(time_s=timeout, memory_mb=memory_mb),
            **({"workers": workers} if workers else {}),
        )
    except (OSError, ValueError) as e:
        message = "; ".join(err["msg"] for err in e.errors()) if isinstance(e, ValidationError) else str(e)
        raise fail(message) from None
    raise typer.Exit(serve(settings))


@app.command()
def judge(
    problems: Annotated[Path, typer.Option(help="problems JSONL (oorl.tasks.schema.Problem rows)")],
    solutions: Annotated[Path, typer.Option(help='solutions JSONL: {"problem_id", "language", "code"}')],
    out_path: Annotated[Path, typer.Option("--out", help="results JSONL")],
    workers: Annotated[int | None, typer.Option(help="sandbox workers (default: one per core)")] = None,
    all_tests: Annotated[bool, typer.Option(help="run every test even after a failure")] = False,
    sandbox_url: Annotated[
        list[str] | None,
        typer.Option(
            help="judge on this `oorl sandbox serve` server (repeatable; default $OORL_SANDBOX_URLS)"
        ),
    ] = None,
    token_file: Annotated[
        Path | None, typer.Option(help="file holding the servers' token (default $OORL_SANDBOX_TOKEN_FILE)")
    ] = None,
) -> None:
    """Judge solutions against their problems' tests, in-process or on sandbox servers; one result each."""
    from oorl.jsonl import JsonlError, read_jsonl, write_jsonl
    from oorl.sandbox import RemoteSandboxError, SandboxSettings, open_sandbox
    from oorl.tasks.schema import Problem, Solution

    try:
        by_id = {p.id: p for p in read_jsonl(problems, Problem)}
        sols = read_jsonl(solutions, Solution)
    except (JsonlError, OSError) as e:
        raise fail(str(e)) from None
    unknown = sorted({s.problem_id for s in sols} - by_id.keys())
    if unknown:
        raise fail(f"{solutions}: unknown problem ids: {', '.join(unknown[:10])}")
    requests = [
        by_id[s.problem_id].request(s.language, s.code).model_copy(update={"stop_on_failure": not all_tests})
        for s in sols
    ]
    settings = SandboxSettings.from_env()
    if sandbox_url:
        settings.urls = sandbox_url
    if token_file:
        settings.token_file = str(token_file)
    try:
        with open_sandbox(settings, workers=workers) as sb:
            results = sb.judge_many(requests, progress="judging")
    except (OSError, ValueError, RemoteSandboxError) as e:  # an unreadable token file, a refused token
        raise fail(str(e)) from None
    rows = [{**s.model_dump(), **r.model_dump(mode="json")} for s, r in zip(sols, results, strict=True)]
    write_jsonl(out_path, rows)
    _print_summary([(s.language, r.verdict.value) for s, r in zip(sols, results, strict=True)])
    console.print(f"wrote {len(rows)} results to {out_path}")


def _print_summary(pairs: list[tuple[str, str]]) -> None:
    counts: dict[str, Counter] = defaultdict(Counter)
    for language, verdict in pairs:
        counts[language][verdict] += 1
    verdicts = sorted({v for c in counts.values() for v in c}, key=lambda v: (v != "accepted", v))
    table = Table(title="verdicts per language")
    table.add_column("language")
    for v in verdicts:
        table.add_column(v, justify="right")
    table.add_column("pass rate", justify="right")
    for language, c in sorted(counts.items()):
        total = sum(c.values())
        table.add_row(language, *(str(c[v]) for v in verdicts), f"{c['accepted'] / total:.1%}")
    out.print(table)


@app.command()
def conformance(
    humaneval_x: Annotated[bool, typer.Option(help="also judge HumanEval-X's canonical solutions")] = True,
    workers: Annotated[int | None, typer.Option(help="sandbox workers (default: one per core)")] = None,
) -> None:
    """Judge the bundled problems' reference solutions in every language and print the pass matrix."""
    from importlib import resources

    from oorl.jsonl import read_jsonl
    from oorl.sandbox import Sandbox
    from oorl.tasks.schema import Problem

    bundled = Path(str(resources.files("oorl") / "data" / "synthetic" / "problems.jsonl"))
    suites = {"synthetic": read_jsonl(bundled, Problem) if bundled.exists() else []}
    if humaneval_x:
        from oorl.tasks.humaneval_x import load_humaneval_x

        suites["humaneval-x"] = load_humaneval_x()
    jobs = [
        (suite, lang, p.request(lang, code))
        for suite, problems in suites.items()
        for p in problems
        for lang, code in p.solutions.items()
        if p.judgeable(lang)
    ]
    with Sandbox(workers=workers) as sb:
        results = sb.judge_many([j[2] for j in jobs], progress=f"judging {len(jobs)} reference solutions")
    matrix: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for (suite, lang, _), result in zip(jobs, results, strict=True):
        matrix[suite, lang][result.verdict.value] += 1
    table = Table(title="reference solutions accepted (passed / judged)")
    table.add_column("language")
    for suite in suites:
        table.add_column(suite, justify="right")
    for lang in LANGUAGES:
        cells = []
        for suite in suites:
            c = matrix.get((suite, lang))
            cells.append(f"{c['accepted']}/{sum(c.values())}" if c else "-")
        table.add_row(lang, *cells)
    out.print(table)
    errors = sum(c["sandbox_error"] for c in matrix.values())
    if errors:
        raise fail(f"{errors} runs hit a sandbox error", code=1)


def _mount() -> None:
    """The sub-commands that live beside their code: data, IR groups, and the trainer's top-level ones."""
    from oorl.ir.cli import app as ir_app
    from oorl.tasks.cli import app as data_app
    from oorl.train.cli import app as train_app

    app.add_typer(data_app, name="data")
    app.add_typer(ir_app, name="ir")
    app.registered_commands.extend(train_app.registered_commands)
    app.registered_groups.extend(train_app.registered_groups)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
