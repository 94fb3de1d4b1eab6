"""Losers: one-site mutants of the winners, each kept only with a witness beyond doubt.

    mutate winners -> verify -> run against the source (sandbox, in batches) -> first difference
      -> run that input `witness_runs` more times: the difference must reproduce every time
      -> a hang counts only where the source is fast on that input

Why so strict: a witness observed once can be an accident of one run. A "timeout" on a loaded
machine, from an equivalent but slower mutant, is the typical false loser; a source whose behaviour
on the input is undefined is the other (oorl.ir.reference drops those inputs before we get here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from oorl.ir.config import IRBuildConfig
from oorl.ir.execute import Kind, Outcome, Program, Run, difference, run_against
from oorl.ir.mutate import Mutant, interleave_by_operator, mutants
from oorl.ir.schema import Loser, OperatorCounts, Winner, Witness
from oorl.ir.verify import verify_error


def candidates(
    winners: list[Winner], cfg: IRBuildConfig, seed: int, counts: dict[str, OperatorCounts]
) -> list[tuple[Mutant, str]]:
    """Every valid, distinct one-site mutant of every winner (with the level it came from),
    interleaved by operator. Counts per operator: `attempted` distinct mutants, `valid` those that
    parse and verify."""
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


@dataclass(frozen=True)
class Observation:
    """A mutant's first difference from the source: on input `index`, `observed` instead of the
    source's outcome, of `kind`."""

    index: int
    observed: Outcome
    kind: Kind


def hang_can_witness(source: Outcome, cfg: IRBuildConfig) -> bool:
    """A hang on this input counts: the source finished it within a `hang_margin`-th of the limit."""
    return source.seconds * cfg.hang_margin < cfg.input_timeout_s


def first_difference(run: Run, reference: Sequence[Outcome], cfg: IRBuildConfig) -> Observation | str | None:
    """The difference a candidate run found, or why it does not count (a string), or None when the
    run shows no difference.

    It counts only if every rerun reproduced it, and a hang only where the source finished that
    input within a `hang_margin`-th of the limit: a mutant merely slower than the source, or slow
    on a loaded machine, must not pass for one that never ends."""
    if run.error is not None or run.all_same or len(run.outcomes) != 1:
        return None  # equivalent on every input, or not runnable: never a loser
    i, observed = next(iter(run.outcomes.items()))
    kind = difference(observed, reference[i])
    if kind is None:
        return None
    if kind == "timeout" and not hang_can_witness(reference[i], cfg):
        return "slow_source"
    if len(run.reruns.get(i, [])) < cfg.witness_runs or not run.reproduced(i):
        return "not_reproduced"
    return Observation(i, observed, kind)


def search(
    sb,
    queue: list[tuple[Mutant, str]],
    program: Callable[[str], Program],
    inputs: Sequence[str],
    reference: Sequence[Outcome],
    witness_input: Callable[[int], dict],
    cfg: IRBuildConfig,
    counts: dict[str, OperatorCounts],
    batch: int,
) -> tuple[list[Loser], int]:
    """Run candidates in parallel batches until `max_losers` witnessed losers are found or
    `max_mutants_run` were run; returns the losers and how many candidates ran. Per operator:
    `executed`, `witnessed` (confirmed, by kind) and `unconfirmed` (a difference that did not hold up)."""
    losers: list[Loser] = []
    executed = 0
    hangs = [i for i, o in enumerate(reference) if hang_can_witness(o, cfg)]  # elsewhere no rerun helps
    while queue and len(losers) < cfg.max_losers and executed < cfg.max_mutants_run:
        n = min(batch, cfg.max_mutants_run - executed)
        take, queue = queue[:n], queue[n:]
        progs = [program(m.ir) for m, _ in take]
        t, rt = cfg.input_timeout_s, cfg.run_time_s
        runs = run_against(sb, progs, inputs, reference, t, rt, reruns=cfg.witness_runs, rerun_hangs=hangs)
        executed += len(take)
        for (m, level), run in zip(take, runs, strict=True):
            c = counts[m.operator]
            c.executed += 1
            ob = first_difference(run, reference, cfg)
            if isinstance(ob, str):
                c.unconfirmed[ob] = c.unconfirmed.get(ob, 0) + 1
            if not isinstance(ob, Observation):
                continue
            c.witnessed += 1
            c.kinds[ob.kind] = c.kinds.get(ob.kind, 0) + 1
            if len(losers) >= cfg.max_losers or (ob.kind == "exit_code" and not cfg.exit_code_losers):
                continue
            witness = Witness(
                **witness_input(ob.index),
                expected=reference[ob.index].stdout,
                observed=ob.observed.stdout,
                kind=ob.kind,
                runs=1 + cfg.witness_runs,
            )
            losers.append(
                Loser(ir=m.ir, operator=m.operator, from_opt_level=level, site=m.site, witness=witness)
            )
    return losers, executed
