"""IR-group building throughput, and in-process vs subprocess IR verification, measured side by side.

    .venv/bin/python benchmarks/ir_build.py [--limit 6] [--verify-samples 80] [--workers 2]

1. Verification: the same IR texts (winners and one-site mutants of the bundled C sources) are
   parsed + verified by llvmlite in process (what the builder uses) and by an `llvm-as-14`
   subprocess (the baseline), in the same run; prints ms per IR for both and the speed ratio.
2. Throughput: builds groups from the bundled problems with the real sandbox and prints groups per
   minute (wall) with the time split between compiling (clang) and everything else, for the
   default rules and, side by side (each source built both ways in turn), without the sanitizer
   check of the source (`sanitize=False`): the ratio is what dropping inputs with undefined
   behaviour costs. Also prints how many differences did not hold up (re-execution, hang margin).
"""

from __future__ import annotations

import argparse
import random
import time
from importlib import resources
from pathlib import Path

from oorl.ir.config import IRBuildConfig
from oorl.ir.mutate import mutants
from oorl.ir.normalize import normalize_ir
from oorl.ir.sources import from_c_files, from_problems
from oorl.ir.toolchain import compile_levels, llvm_as_verifies
from oorl.ir.verify import verifies

DATA = Path(str(resources.files("oorl") / "data" / "ir"))


def sample_irs(n: int, seed: int = 0) -> list[str]:
    """Up to n IR texts: every normalised winner of the bundled sources plus a random set of mutants."""
    winners, muts = [], []
    items = list(from_problems(DATA / "problems.jsonl")) + list(
        from_c_files(sorted((DATA / "functions").glob("*.c")))
    )
    for item in items:
        for out in compile_levels(item.source, ["O0", "O1", "O2", "O3", "Os", "Oz"]):
            text, _ = normalize_ir(out.ir)
            winners.append(text)
            muts.extend(m.ir for m in mutants(text))
    rng = random.Random(seed)
    picked = list(dict.fromkeys(winners)) + rng.sample(muts, min(len(muts), n))
    return picked[:n]


def bench_verify(irs: list[str], subprocess_samples: int) -> None:
    """Both verifiers on the same IR texts (in process repeated 10x for a stable clock)."""
    sub = irs[:subprocess_samples]
    verifies(sub[0])  # load LLVM once, outside the timing
    t0 = time.perf_counter()
    for _ in range(10):
        ok_inproc = [verifies(t) for t in sub]
    t_in = (time.perf_counter() - t0) / (10 * len(sub))
    t0 = time.perf_counter()
    ok_sub = [llvm_as_verifies(t) for t in sub]
    t_sub = (time.perf_counter() - t0) / len(sub)
    agree = sum(a == b for a, b in zip(ok_inproc, ok_sub, strict=True))
    print(
        f"verify ({len(sub)} IRs, mean {sum(map(len, sub)) // len(sub)} chars): llvmlite in process "
        f"{t_in * 1e3:.3f} ms/IR; llvm-as-14 subprocess {t_sub * 1e3:.2f} ms/IR; "
        f"ratio {t_sub / t_in:.0f}x in favour of in process; verdicts agree on {agree}/{len(sub)}"
    )


def bench_build(limit: int, workers: int) -> None:
    """Each source is built with both configs one after the other (A B A B ...), so that a change in
    machine load weighs on both sides alike."""
    from oorl.ir.build import build_group
    from oorl.ir.schema import IRGroup
    from oorl.sandbox import Sandbox

    items = list(from_problems(DATA / "problems.jsonl"))[:limit]
    t0 = time.perf_counter()
    for item in items:
        compile_levels(item.source, ["O0", "O1", "O2", "O3", "Os", "Oz"])
    t_compile = (time.perf_counter() - t0) / len(items)
    configs = {"default": IRBuildConfig(), "sanitize=False": IRBuildConfig(sanitize=False)}
    wall = dict.fromkeys(configs, 0.0)
    built = dict.fromkeys(configs, 0)
    doubtful = dict.fromkeys(configs, 0)
    with Sandbox(workers=workers) as sb:
        build_group(
            items[0], sb, IRBuildConfig()
        )  # the sanitizer probe, once per sandbox, outside the timing
        for item in items:
            for name, cfg in configs.items():
                t0 = time.perf_counter()
                group = build_group(item, sb, cfg)
                wall[name] += time.perf_counter() - t0
                if isinstance(group, IRGroup):
                    built[name] += 1
                    ops = group.provenance["operators"].values()
                    doubtful[name] += sum(sum(c["unconfirmed"].values()) for c in ops)
    for name in configs:
        print(f"build [{name}]: {built[name]} groups from {len(items)} sources in {wall[name]:.1f} s with "
              f"{workers} sandbox workers = {60 * built[name] / wall[name]:.1f} groups/min; compiling the "
              f"6 levels alone takes {t_compile:.2f} s/source ({100 * t_compile * len(items) / wall[name]:.0f}% "
              f"of the wall time); differences that did not hold up: {doubtful[name]}")  # fmt: skip
    print(f"sanitizer check of the source: default / sanitize=False wall = "
          f"{wall['default'] / wall['sanitize=False']:.2f}x")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=6, help="bundled problems to build groups from")
    ap.add_argument("--verify-samples", type=int, default=80, help="IR texts verified both ways")
    ap.add_argument("--workers", type=int, default=2, help="sandbox workers")
    args = ap.parse_args()
    bench_verify(sample_irs(args.verify_samples), args.verify_samples)
    bench_build(args.limit, args.workers)


if __name__ == "__main__":
    main()
