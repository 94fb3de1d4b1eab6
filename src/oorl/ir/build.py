"""Build one IR group from one C source: winners from every opt level, losers with witnesses.

    compile -O0..-Oz -> normalise -> verify -> de-duplicate = winners          (oorl.ir.winners)
    run the source on every input, twice and sanitized  = the reference; inputs with undefined or
                                                          unstable behaviour dropped (oorl.ir.reference)
    run every winner against it (sandbox)               = all must agree, else the group is dropped
    mutate winners -> verify -> run -> re-execute       = losers, each with a witness that held up
                                                          every time (oorl.ir.losers)

A source that cannot give a group is a `Skipped` with a reason, never an exception: a dataset run
over thousands of sources must not die on one odd program.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import llvmlite
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oorl.ir import drivers
from oorl.ir.config import IRBuildConfig
from oorl.ir.execute import Outcome, Program, run_against
from oorl.ir.losers import candidates, search
from oorl.ir.mutate import OPERATORS
from oorl.ir.normalize import restore_header
from oorl.ir.reference import Reference, reference_behaviour
from oorl.ir.schema import IRGroup, OperatorCounts, Skipped
from oorl.ir.sources import CSource
from oorl.ir.stats import skipped_path
from oorl.ir.toolchain import EMIT_FLAGS, ToolchainError, clang_version
from oorl.ir.verify import llvm_version
from oorl.ir.winners import winners_for
from oorl.jsonl import iter_jsonl_dicts, write_jsonl

PROMPT = "Translate the following C code into LLVM IR.\n\n```c\n{source}\n```\n"


def c_to_ir_prompt(source: str) -> str:
    """The GEPO prompt for a C source (the paper's "C-to-IR" task)."""
    return PROMPT.format(source=source.strip("\n"))


def outputs_agree(actual: str, expected: str) -> bool:
    """The tolerant check of a source against its own tests: line endings and trailing blanks ignored."""
    norm = lambda s: [ln.rstrip() for ln in s.replace("\r\n", "\n").rstrip().split("\n")]  # noqa: E731
    return norm(actual) == norm(expected)


@dataclass
class Harness:
    """How a source's programs are run: its inputs (stdin strings), and for function-level sources
    the driver and the argument lists behind each input."""

    inputs: list[str]
    driver: str | None = None
    args: list[list[str]] | None = None

    def witness_input(self, i: int) -> dict:
        return {"args": self.args[i]} if self.args is not None else {"stdin": self.inputs[i]}

    def keep(self, indices: list[int]) -> Harness:
        """The harness on the inputs `indices` only."""
        args = None if self.args is None else [self.args[i] for i in indices]
        return Harness([self.inputs[i] for i in indices], self.driver, args)


def harness_for(item: CSource, cfg: IRBuildConfig) -> Harness | str:
    """The inputs (and driver) for a source, or the reason it has none."""
    if item.kind == "program":
        return Harness(list(item.inputs)) if item.inputs else "no_inputs"
    functions = drivers.callable_functions(item.source)
    if not functions:
        return "no_callable_function"
    args = drivers.make_inputs(functions, cfg.function_inputs, seed=cfg.seed + int(item.sha256[:8], 16))
    return Harness([drivers.args_stdin(a) for a in args], driver=drivers.make_driver(functions), args=args)


def _skip(item: CSource, reason: str, detail: str = "", ops: dict | None = None) -> Skipped:
    return Skipped(id=item.id, reason=reason, detail=detail[:2000], operators=ops or {})


def _usable_inputs(item: CSource, harness: Harness, ref: Reference) -> list[int] | Skipped:
    """The inputs that can tell programs apart, or why the source has none.

    A whole program must run cleanly on every input the reference kept (a hang or a crash there says
    the source is broken); a function called through the driver may be outside its domain on some
    generated arguments (division by zero): those inputs are dropped instead."""
    if not ref.outcomes:
        dropped = ref.drop_counts()
        why = max(dropped.items(), key=lambda kv: kv[1])[0]
        return _skip(item, f"source_{why}", f"no input left: {dropped}")
    bad = [
        i
        for i, o in ref.outcomes.items()
        if o.timed_out or o.exit_code >= 128 or (harness.args is not None and o.exit_code)
    ]
    if bad and harness.args is None:
        o = ref.outcomes[bad[0]]
        reason = "source_timeout" if o.timed_out else "source_crash"
        return _skip(item, reason, f"input {bad[0]}: exit {o.exit_code}")
    keep = [i for i in sorted(ref.outcomes) if i not in bad]
    if not keep:
        return _skip(item, "source_crash", "the source fails on every generated input")
    if item.expected is not None and harness.args is None:
        wrong = [i for i in keep if not outputs_agree(ref.outcomes[i].stdout, item.expected[i])]
        if wrong:
            return _skip(item, "source_fails_tests", f"test {wrong[0]}")
    return keep


def build_group(item: CSource, sb, cfg: IRBuildConfig) -> IRGroup | Skipped:
    """One source -> one group (or the reason there is none). `sb` is an open `oorl.sandbox.Sandbox`."""
    harness = harness_for(item, cfg)
    if isinstance(harness, str):
        return _skip(item, harness)
    got = winners_for(item, cfg)
    if isinstance(got, Skipped):
        return got
    winners, exec_info = got

    # 1. the source's own behaviour on every input; inputs it cannot be trusted on are dropped
    src_prog = Program(item.source, "c", harness.driver)
    ref = reference_behaviour(
        sb, src_prog, harness.inputs, cfg.input_timeout_s, cfg.run_time_s, sanitize=cfg.sanitize
    )
    if not isinstance(ref, Reference):
        reason = (
            "sandbox_error"
            if ref.infra
            else "source_build_failed"
            if ref.build_failed
            else "source_run_failed"
        )
        return _skip(item, reason, ref.error or "")
    keep = _usable_inputs(item, harness, ref)
    if isinstance(keep, Skipped):
        return keep
    harness = harness.keep(keep)
    ref_out: list[Outcome] = [ref.outcomes[i] for i in keep]

    # 2. every winner must behave exactly like the source
    def prog(ir: str) -> Program:
        return Program(restore_header(ir, exec_info), "ir", harness.driver)

    runs = run_against(
        sb, [prog(w.ir) for w in winners], harness.inputs, ref_out, cfg.input_timeout_s, cfg.run_time_s
    )
    for w, run in zip(winners, runs, strict=True):
        if run.infra:
            return _skip(item, "sandbox_error", run.error or "")
        if run.error is not None or not run.all_same:
            why = run.error or f"input {next(iter(run.outcomes), '?')} differs"
            return _skip(item, "winners_disagree", f"-{w.opt_levels[0]}: {why}")

    # 3. losers: mutants with a witness that holds up, run in parallel batches until enough are found
    counts: dict[str, OperatorCounts] = {op: OperatorCounts() for op in (cfg.operators or OPERATORS)}
    seed = cfg.seed + int(item.sha256[:8], 16)
    queue = candidates(winners, cfg, seed, counts)
    if not queue:
        return _skip(item, "no_valid_mutant", ops=counts)
    batch = max(2, getattr(sb, "workers", 2))
    losers, executed = search(
        sb, queue, prog, harness.inputs, ref_out, harness.witness_input, cfg, counts, batch
    )
    if len(losers) < cfg.min_losers:
        return _skip(item, "too_few_losers", f"{len(losers)} witnessed of {executed} executed", counts)

    return IRGroup(
        id=item.id,
        source_lang="c",
        source=item.source,
        prompt=c_to_ir_prompt(item.source),
        winners=winners,
        losers=losers,
        exec=exec_info,
        provenance={
            "compiler": clang_version(cfg.clang),
            "flags": " ".join([cfg.clang, *EMIT_FLAGS]),
            "opt_levels": list(cfg.opt_levels),
            "source_sha256": item.sha256,
            "kind": item.kind,
            "normalised": True,
            "verifier": f"llvmlite {llvmlite.__version__} (LLVM {llvm_version()})",
            "exec": "clang-14 -O0 -x ir, in oorl.sandbox",
            "inputs": len(harness.inputs),
            "inputs_dropped": ref.drop_counts(),
            "sanitizers": list(ref.sanitizers),
            "witness_runs": 1 + cfg.witness_runs,
            "hang_margin": cfg.hang_margin,
            "exit_code_losers": cfg.exit_code_losers,
            "input_timeout_s": cfg.input_timeout_s,
            "seed": cfg.seed,
            "operators": {k: v.model_dump() for k, v in counts.items()},
            "origin": item.origin,
        },
    )


@dataclass
class BuildSummary:
    built: int = 0
    resumed: int = 0
    skipped: dict[str, int] | None = None

    def count_skip(self, reason: str) -> None:
        self.skipped = self.skipped or {}
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


# Skips that say nothing about the source (our infrastructure failed): always retried on a rerun.
TRANSIENT_REASONS = frozenset({"sandbox_error", "internal_error"})


def done_ids(out: str | os.PathLike, *, include_skipped: bool = True) -> set[str]:
    """Ids already in the output (and, unless retried, in its skipped sidecar): a rerun skips them."""
    ids: set[str] = set()
    if Path(out).exists():
        ids.update(str(obj.get("id")) for _, obj in iter_jsonl_dicts(out))
    side = skipped_path(out)
    if include_skipped and side.exists():
        ids.update(
            str(o.get("id")) for _, o in iter_jsonl_dicts(side) if o.get("reason") not in TRANSIENT_REASONS
        )
    return ids


def build_all(
    items: Iterable[CSource],
    out: str | os.PathLike,
    cfg: IRBuildConfig,
    sb,
    *,
    retry_skipped: bool = False,
    progress: bool = True,
    total: int | None = None,
) -> BuildSummary:
    """Build a group per source, appending each to `out` as soon as it is done (resumable: ids already
    written are skipped) and each skipped source, with its reason, to the sidecar."""
    summary = BuildSummary(skipped={})
    done = done_ids(out, include_skipped=not retry_skipped)
    side = skipped_path(out)
    with Progress(
        TextColumn("[bold]ir build"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        disable=not progress,
        transient=False,
    ) as bar:
        task = bar.add_task("build", total=total, status="")
        for item in items:
            if item.id in done:
                summary.resumed += 1
                bar.advance(task)
                continue
            bar.update(
                task, status=f"{item.id}  built {summary.built}, skipped {sum(summary.skipped.values())}"
            )
            try:
                result = build_group(item, sb, cfg)
            except ToolchainError:
                raise
            except Exception as e:  # one odd source must not end a long run: record it and go on
                result = Skipped(id=item.id, reason="internal_error", detail=f"{type(e).__name__}: {e}")
            if isinstance(result, IRGroup):
                write_jsonl(out, [result], append=True)
                summary.built += 1
            else:
                write_jsonl(side, [result], append=True)
                summary.count_skip(result.reason)
            done.add(item.id)
            bar.advance(task)
    return summary
