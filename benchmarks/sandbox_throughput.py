"""Sandbox throughput, side by side with bare process launches, per language.

For each language a small stdio program (a + b) is compiled once, then run repeatedly:
  bare     the same binary / interpreter command launched with plain subprocess (no isolation)
  sandbox  Sandbox.judge with one stdio test (compile cached: a warm run)
in alternating rounds, one at a time, so both see the same machine load. It also times a first judge
(compile included, empty cache) against re-judging the same program (cache hit), and, for the
interpreted languages, throughput with every core busy: a pool of one worker per core against as
many threads each launching the program bare.

    python benchmarks/sandbox_throughput.py [--runs 30] [--languages python,c,...] [--pool-runs 400]

Targets: overhead (bare runs/s divided by sandbox runs/s) within 1.3x for interpreted languages;
re-judging an already compiled program at least 5x faster than the first judge.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from oorl.langs import BOX, LANGUAGES, get_language
from oorl.sandbox import JudgeRequest, Sandbox, StdioTest
from oorl.sandbox.isolation import BASE_ENV
from oorl.sandbox.samples import ADD

INTERPRETED = {"python", "php", "bash", "javascript"}
TEST = [StdioTest(stdin="1 2\n", expected="3\n")]


def bare_argv(language: str, code: str, entry: Path) -> list[str]:
    lang = get_language(language)
    return [a.replace(BOX, str(entry)) for a in lang.run_argv(code, 384)]


def time_runs(fn, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="warm runs per side and language")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    parser.add_argument("--pool-runs", type=int, default=400, help="runs per side in the pool table")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title=f"sandbox vs bare, {args.runs} warm runs each (median per run)")
    for col in (
        "language",
        "bare ms",
        "sandbox ms",
        "bare runs/s",
        "sandbox runs/s",
        "overhead x",
        "first judge s",
        "re-judge s",
        "re-judge speedup",
    ):
        table.add_column(col, justify="right")
    failures = []
    bare_commands = {}
    with tempfile.TemporaryDirectory() as cache:
        with Sandbox(workers=1, cache_dir=cache) as sb:
            for language in args.languages.split(","):
                code = ADD[language]
                request = JudgeRequest(language=language, code=code, tests=TEST)
                t = time.perf_counter()
                first = sb.judge(request)
                first_s = time.perf_counter() - t
                assert first.accepted, (language, first.detail, first.compile)
                entry = sb.cache.path(sb.cache.key(get_language(language), code))
                argv = bare_argv(language, code, entry)
                env = {**BASE_ENV, **get_language(language).env, "GOCACHE": f"{cache}/gocache"}
                bare_commands[language] = (argv, env)

                def bare(argv=argv, env=env):
                    out = subprocess.run(
                        argv, input=b"1 2\n", capture_output=True, env=env, cwd=cache, check=True
                    )
                    assert out.stdout.strip() == b"3"

                def sandboxed(request=request):
                    assert sb.judge(request).accepted

                bare_t, sandbox_t = [], []
                for _ in range(args.runs):  # alternate so both sides share the machine's state
                    bare_t += time_runs(bare, 1)
                    sandbox_t += time_runs(sandboxed, 1)
                b, s = statistics.median(bare_t), statistics.median(sandbox_t)
                rejudge = statistics.median(time_runs(sandboxed, 5))
                overhead = s / b
                if language in INTERPRETED and overhead > 1.3:
                    failures.append(f"{language}: overhead {overhead:.2f}x > 1.3x")
                if first.compile and first_s / rejudge < 5 and get_language(language).compile:
                    failures.append(f"{language}: re-judge only {first_s / rejudge:.1f}x faster")
                table.add_row(
                    language,
                    f"{b * 1e3:.1f}",
                    f"{s * 1e3:.1f}",
                    f"{1 / b:.1f}",
                    f"{1 / s:.1f}",
                    f"{overhead:.2f}",
                    f"{first_s:.2f}",
                    f"{rejudge:.3f}",
                    f"{first_s / rejudge:.1f}x",
                )
        console.print(table)
        pool_table(console, args, cache, bare_commands)
    console.print(
        "targets: overhead <= 1.3x for interpreted languages (python, php, bash, javascript); "
        "re-judge >= 5x faster than the first judge for compiled languages"
    )
    console.print("\n".join(failures) if failures else "all targets met")


def pool_table(console: Console, args, cache: str, bare_commands: dict) -> None:
    """Runs/s with every core busy: the pool's workers against as many threads launching bare."""
    workers = os.cpu_count() or 1
    table = Table(title=f"throughput with {workers} workers, {args.pool_runs} runs each side")
    for col in ("language", "bare runs/s", "sandbox runs/s", "overhead x"):
        table.add_column(col, justify="right")
    with Sandbox(workers=workers, cache_dir=cache) as sb, ThreadPoolExecutor(workers) as threads:
        for language in [lang for lang in bare_commands if lang in INTERPRETED]:
            argv, env = bare_commands[language]
            request = JudgeRequest(language=language, code=ADD[language], tests=TEST)
            t = time.perf_counter()
            results = sb.judge_many([request] * args.pool_runs)
            sandbox_s = time.perf_counter() - t
            assert all(r.accepted for r in results), language
            t = time.perf_counter()
            list(
                threads.map(
                    lambda _, argv=argv, env=env: subprocess.run(
                        argv, input=b"1 2\n", capture_output=True, env=env, cwd=cache, check=True
                    ),
                    range(args.pool_runs),
                )
            )
            bare_s = time.perf_counter() - t
            n = args.pool_runs
            table.add_row(language, f"{n / bare_s:.1f}", f"{n / sandbox_s:.1f}", f"{sandbox_s / bare_s:.2f}")
    console.print(table)


if __name__ == "__main__":
    main()
