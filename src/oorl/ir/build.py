"""Build one IR group from one C source: winners from every opt level, losers with witnesses.

    compile -O0..-Oz -> normalise -> verify -> de-duplicate = winners
    run the source on every input (sandbox)       = the reference behaviour
    run every winner against it (sandbox)         = all must agree, else the group is dropped
    mutate winners -> verify -> run (sandbox)     = losers, each with the first input that tells it apart

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
from oorl.ir.execute import Program, difference, run_against, run_reference
from oorl.ir.mutate import OPERATORS, Mutant, interleave_by_operator, mutants
from oorl.ir.normalize import normalize_ir, restore_header
from oorl.ir.schema import ExecInfo, IRGroup, Loser, OperatorCounts, Skipped, Winner, Witness
from oorl.ir.sources import CSource
from oorl.ir.stats import skipped_path
from oorl.ir.toolchain import EMIT_FLAGS, ToolchainError, clang_version, compile_levels
from oorl.ir.verify import llvm_version, verify_error
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


def _winners(item: CSource, cfg: IRBuildConfig) -> tuple[list[Winner], ExecInfo] | Skipped:
    outs = compile_levels(item.source, cfg.opt_levels, clang=cfg.clang, timeout_s=cfg.compile_timeout_s)
    failed = [o for o in outs if not o.ok]
    if failed:
        reason = "compile_timeout" if "timed out" in failed[0].error else "compile_error"
        return _skip(item, reason, f"-{failed[0].level}: {failed[0].error}")
    by_text: dict[str, list[str]] = {}
    exec_info = normalize_ir(outs[0].ir)[1]  # every level of one clang run shares these
    for level, raw in [(o.level, o.ir) for o in outs] + list(item.extra_winners.items()):
        text, _ = normalize_ir(raw)
        err = verify_error(text)
        if err is not None:
            if level in item.extra_winners:
                continue  # a dataset IR from another LLVM: not ours to keep
            return _skip(item, "normalised_ir_invalid", f"-{level}: {err}")
        if cfg.max_ir_chars is not None and len(text) > cfg.max_ir_chars:
            continue
        by_text.setdefault(text, []).append(level)
    winners = [Winner(ir=t, opt_levels=lv) for t, lv in by_text.items()][: cfg.max_winners]
    if len(winners) < cfg.min_winners:
        return _skip(item, "too_few_winners", f"{len(winners)} distinct IR(s) within the limits")
    return winners, exec_info


def _candidates(
    winners: list[Winner], cfg: IRBuildConfig, seed: int, counts: dict[str, OperatorCounts]
) -> list[tuple[Mutant, str]]:
    """Every valid, distinct one-site mutant of every winner, interleaved by operator.

    Counts per operator: `attempted` distinct mutants, `valid` those that parse and verify."""
    seen = {w.ir for w in winners}
    valid: list[Mutant] = []
    origin: dict[int, str] = {}
    for w in winners:
        for m in mutants(w.ir, cfg.operators):
            if m.ir in seen:  # the same edit on an identical region of another winner, or a winner itself
                continue
            seen.add(m.ir)
            c = counts.setdefault(m.operator, OperatorCounts())
            c.attempted += 1
            if verify_error(m.ir) is None:
                c.valid += 1
                origin[id(m)] = w.opt_levels[0]
                valid.append(m)
    return [(m, origin[id(m)]) for m in interleave_by_operator(valid, seed)]


def build_group(item: CSource, sb, cfg: IRBuildConfig) -> IRGroup | Skipped:
    """One source -> one group (or the reason there is none). `sb` is an open `oorl.sandbox.Sandbox`."""
    harness = harness_for(item, cfg)
    if isinstance(harness, str):
        return _skip(item, harness)
    got = _winners(item, cfg)
    if isinstance(got, Skipped):
        return got
    winners, exec_info = got

    # 1. the source's own behaviour on every input
    src_prog = Program(item.source, "c", harness.driver)
    ref = run_reference(sb, src_prog, harness.inputs, cfg.input_timeout_s, cfg.run_time_s)
    if ref.error is not None:
        reason = (
            "sandbox_error"
            if ref.infra
            else "source_build_failed"
            if ref.build_failed
            else "source_run_failed"
        )
        return _skip(item, reason, ref.error)
    bad = [
        i
        for i, o in ref.outcomes.items()
        if o.timed_out or o.exit_code >= 128 or (harness.args and o.exit_code)
    ]
    if bad and harness.args is None:
        o = ref.outcomes[bad[0]]
        return _skip(
            item, "source_timeout" if o.timed_out else "source_crash", f"input {bad[0]}: exit {o.exit_code}"
        )
    if bad:  # function-level: inputs outside a function's domain (e.g. division by zero) are dropped
        keep = [i for i in range(len(harness.inputs)) if i not in bad]
        harness = Harness([harness.inputs[i] for i in keep], harness.driver, [harness.args[i] for i in keep])
        ref_out = [ref.outcomes[i] for i in keep]
        if not keep:
            return _skip(item, "source_crash", "the source fails on every generated input")
    else:
        ref_out = [ref.outcomes[i] for i in range(len(harness.inputs))]
    if item.expected is not None and harness.args is None:
        wrong = [
            i
            for i, (o, e) in enumerate(zip(ref_out, item.expected, strict=True))
            if not outputs_agree(o.stdout, e)
        ]
        if wrong:
            return _skip(item, "source_fails_tests", f"test {wrong[0]}")

    # 2. every winner must behave exactly like the source
    def prog(ir: str) -> Program:
        return Program(restore_header(ir, exec_info), "ir", harness.driver)

    for w, run in zip(
        winners,
        run_against(
            sb, [prog(w.ir) for w in winners], harness.inputs, ref_out, cfg.input_timeout_s, cfg.run_time_s
        ),
        strict=True,
    ):
        if run.infra:
            return _skip(item, "sandbox_error", run.error or "")
        if run.error is not None or not run.all_same:
            why = run.error or f"input {next(iter(run.outcomes), '?')} differs"
            return _skip(item, "winners_disagree", f"-{w.opt_levels[0]}: {why}")

    # 3. losers: mutants with a witness, executed in parallel batches until enough are found
    counts: dict[str, OperatorCounts] = {op: OperatorCounts() for op in (cfg.operators or OPERATORS)}
    seed = cfg.seed + int(item.sha256[:8], 16)
    queue = _candidates(winners, cfg, seed, counts)
    if not queue:
        return _skip(item, "no_valid_mutant", ops=counts)
    losers: list[Loser] = []
    batch = max(2, getattr(sb, "workers", 2))
    executed = 0
    while queue and len(losers) < cfg.max_losers and executed < cfg.max_mutants_run:
        take = queue[: min(batch, cfg.max_mutants_run - executed)]
        queue = queue[len(take) :]
        runs = run_against(
            sb, [prog(m.ir) for m, _ in take], harness.inputs, ref_out, cfg.input_timeout_s, cfg.run_time_s
        )
        executed += len(take)
        for (m, level), run in zip(take, runs, strict=True):
            c = counts[m.operator]
            c.executed += 1
            if run.error is not None or run.all_same or len(run.outcomes) != 1:
                continue  # equivalent on every input, or not runnable: never a loser
            i, observed = next(iter(run.outcomes.items()))
            kind = difference(observed, ref_out[i])
            if kind is None:
                continue
            c.witnessed += 1
            c.kinds[kind] = c.kinds.get(kind, 0) + 1
            if len(losers) < cfg.max_losers:
                witness = Witness(
                    **harness.witness_input(i),
                    expected=ref_out[i].stdout,
                    observed=observed.stdout,
                    kind=kind,
                )
                losers.append(
                    Loser(ir=m.ir, operator=m.operator, from_opt_level=level, site=m.site, witness=witness)
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
