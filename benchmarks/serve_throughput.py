"""Judged runs per second over HTTP (`oorl sandbox serve` + RemoteSandbox) next to the in-process Sandbox.

Both sides judge the same small stdio programs (a * b, each request its own stdin, every answer
checked) with the same number of workers W: in-process `Sandbox(workers=W).judge_many`, and
`RemoteSandbox.judge_many` keeping 2 x W HTTP requests in flight (each a batch of up to 8 programs)
against a server with W worker slots on loopback.
Rounds alternate between the sides so both see the same machine load. The client runs on the
server's machine here, so its CPU time counts against the service (on a cluster it would not).

    python benchmarks/serve_throughput.py [--workers W] [--runs 400] [--rounds 3] [--languages python,bash]

Target: HTTP >= 0.8x in-process for Python.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from oorl.sandbox import JudgeRequest, RemoteSandbox, Sandbox, StdioTest

PRODUCT = {
    "python": "a, b = map(int, input().split())\nprint(a * b)",
    "bash": "read a b; echo $((a * b))",
    "javascript": "const [a, b] = require('fs').readFileSync(0, 'utf8').split(' ').map(Number);"
    " console.log(a * b);",
    "php": '<?php [$a, $b] = array_map("intval", explode(" ", trim(fgets(STDIN)))); echo $a * $b, "\\n";',
}
TARGET = {"python": 0.8}


def requests_for(language: str, n: int) -> list[JudgeRequest]:
    return [
        JudgeRequest(
            language=language, code=PRODUCT[language], tests=[StdioTest(stdin=f"{i} 3", expected=str(3 * i))]
        )
        for i in range(n)
    ]


def runs_per_s(judge_many, requests: list[JudgeRequest]) -> float:
    start = time.perf_counter()
    results = judge_many(requests)
    elapsed = time.perf_counter() - start
    bad = [r for r in results if not r.accepted]
    assert not bad, f"{len(bad)} wrong results, first: {bad[0].verdict} {bad[0].detail}"
    return len(requests) / elapsed


def start_server(workers: int) -> tuple[subprocess.Popen, str]:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "oorl.cli", "sandbox", "serve", "--port", "0", "--workers", str(workers)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        if "listening on " in line:
            return proc, line.split("listening on ")[1].split()[0]
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="slots on both sides")
    parser.add_argument("--runs", type=int, default=400, help="judged programs per side and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per language")
    parser.add_argument("--languages", default="python,bash")
    args = parser.parse_args()
    console = Console(width=150)
    w = args.workers
    table = Table(
        title=f"judged runs/s, {w} workers, HTTP at concurrency {2 * w}, median of {args.rounds} rounds"
    )
    for col in ("language", "in-process runs/s", "HTTP runs/s", "HTTP / in-process", "target"):
        table.add_column(col, justify="right")
    failures = []
    proc, url = start_server(w)
    try:
        with Sandbox(workers=w) as local, RemoteSandbox([url], concurrency=2 * w) as remote:
            for language in args.languages.split(","):
                requests = requests_for(language, args.runs)
                local.judge_many(requests[: 4 * w])  # warm both: compile cache, connections
                remote.judge_many(requests[: 4 * w])
                local_rates, http_rates = [], []
                for _ in range(args.rounds):
                    local_rates.append(runs_per_s(local.judge_many, requests))
                    http_rates.append(runs_per_s(remote.judge_many, requests))
                lo, http = statistics.median(local_rates), statistics.median(http_rates)
                target = TARGET.get(language)
                if target and http / lo < target:
                    failures.append(f"{language}: HTTP {http / lo:.2f}x in-process < {target}x")
                table.add_row(
                    language, f"{lo:.1f}", f"{http:.1f}", f"{http / lo:.2f}", f">= {target}" if target else ""
                )
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    console.print(table)
    console.print("\n".join(failures) if failures else "all targets met")


if __name__ == "__main__":
    main()
