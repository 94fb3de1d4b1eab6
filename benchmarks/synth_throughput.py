"""Throughput of verified synthetic problems: the worker pool against one worker, side by side.

    python benchmarks/synth_throughput.py --n 4 --workers 2

Generates N problems (seed S), then verifies all their renderings twice on the same machine in the
same run: once with a one-worker sandbox (the baseline) and once with the pool. Each run gets its
own empty compile cache so neither benefits from the other. Prints verified problems per minute for
both, their ratio, and the sandbox seconds spent per language (summed over problems).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from oorl.sandbox import Sandbox
from oorl.tasks.synthetic.generate import LANGUAGES, candidates, verify


def timed_verify(problems, workers: int, languages) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory() as cache, Sandbox(workers=workers, cache_dir=cache) as sb:
        start = time.perf_counter()
        seconds = verify(sb, problems, languages, progress=f"{workers} worker(s)")
        return time.perf_counter() - start, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4, help="problems to generate and verify")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="pool size to compare with one worker")
    ap.add_argument("--languages", default=",".join(LANGUAGES))
    args = ap.parse_args()
    languages = tuple(args.languages.split(","))

    start = time.perf_counter()
    problems = candidates(args.n, args.seed)
    gen_s = time.perf_counter() - start
    base_s, base_lang = timed_verify(problems, 1, languages)
    pool_s, pool_lang = timed_verify(problems, args.workers, languages)

    print(f"{args.n} problems x {len(languages)} languages; generation + interpretation {gen_s:.2f} s")
    print(f"{'run':<14}{'wall s':>9}{'problems/min':>14}")
    print(f"{'1 worker':<14}{base_s:>9.1f}{60 * args.n / base_s:>14.2f}")
    print(f"{f'{args.workers} workers':<14}{pool_s:>9.1f}{60 * args.n / pool_s:>14.2f}")
    print(f"pool / baseline throughput ratio: {base_s / pool_s:.2f}x")
    print(f"\n{'language':<12}{'1 worker s':>12}{'pool s':>10}{'s/problem':>11}")
    for lang in languages:
        print(f"{lang:<12}{base_lang[lang]:>12.1f}{pool_lang[lang]:>10.1f}{pool_lang[lang] / args.n:>11.2f}")


if __name__ == "__main__":
    main()
