"""Evaluation harness throughput: the whole translate-humaneval-x matrix (20 directions x 164
problems) answered by the reference backend, side by side with a serial loop over the same samples.

  harness  `oorl.eval.run.run_bench`: judging in the sandbox pool (one worker per core) while
           generation goes on, every sample appended to samples.jsonl as it is judged, identical
           programs judged once (a reference answer is the same program from every source)
  serial   the same requests judged one at a time (`Sandbox(workers=1).judge` in a for loop)

Each side gets an empty compile cache of its own, so both compile the same programs (a reference
answer is the same program in every direction into one target, so each is compiled once per side).

    python benchmarks/eval_throughput.py [--limit K] [--workers W] [--skip-serial]

Target: the whole matrix in under 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from rich.console import Console
from rich.table import Table

from oorl.eval.backends import ReferenceBackend
from oorl.eval.benches import load_bench
from oorl.eval.run import RunSettings, fingerprint, run_bench
from oorl.sandbox import Sandbox


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="problems per direction (default: all 164)")
    ap.add_argument("--workers", type=int, default=os.cpu_count(), help="harness sandbox workers")
    ap.add_argument("--skip-serial", action="store_true", help="time the harness only")
    ap.add_argument(
        "--out", default=None, help="keep the harness run (samples.jsonl, summary.json, report.md) here"
    )
    args = ap.parse_args()
    console = Console()

    bench = load_bench("translate-humaneval-x", limit=args.limit)
    n = len(bench.items)
    programs = len({fingerprint(i.request(i.cut(i.reference))) for i in bench.items})
    console.print(
        f"{n} samples ({len(bench.excluded)} excluded as data defects), {programs} distinct programs, "
        f"{args.workers} workers"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)  # sandboxed runs read compiled programs from the caches inside
        with Sandbox(workers=args.workers, cache_dir=f"{tmp}/cache-harness") as sb:
            t0 = time.perf_counter()
            summary = run_bench(
                bench,
                ReferenceBackend(bench.items),
                sb,
                args.out or f"{tmp}/run",
                RunSettings(model="reference"),
                progress=True,
            )
            harness_s = time.perf_counter() - t0
        rows.append(("harness", harness_s, summary["overall"]["1"]))
        worst = min(summary["pass_at_k"]["1"].items(), key=lambda kv: kv[1])
        if not args.skip_serial:
            with Sandbox(workers=1, cache_dir=f"{tmp}/cache-serial") as sb:
                t0 = time.perf_counter()
                passed = 0
                for item in bench.items:
                    request = item.request(item.cut(item.reference))
                    passed += not isinstance(request, str) and sb.judge(request).accepted
                serial_s = time.perf_counter() - t0
            rows.append(("serial loop", serial_s, passed / n))

    table = Table(title=f"translate-humaneval-x, reference backend, {n} samples, {os.cpu_count()} cores")
    for col in ("", "wall s", "judged / s", "pass@1"):
        table.add_column(col, justify="right")
    for name, secs, score in rows:
        table.add_row(name, f"{secs:.1f}", f"{n / secs:.2f}", f"{score:.3f}")
    console.print(table)
    console.print(
        f"lowest direction: {worst[0]} {worst[1]:.3f}; excluded data defects: {len(bench.excluded)}"
    )
    if len(rows) == 2:
        console.print(f"harness / serial throughput: {rows[1][1] / rows[0][1]:.2f}x")
    if args.limit is None:
        console.print(f"whole matrix: {harness_s / 60:.1f} min (target < 10 min on 2 cores)")
    else:
        console.print(
            f"{args.limit} problems per direction: {harness_s / 60:.1f} min (the whole matrix is 164)"
        )


if __name__ == "__main__":
    main()
