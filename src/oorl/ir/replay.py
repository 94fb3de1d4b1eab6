"""Re-execute every witness of a group file in the sandbox: a witness that no longer holds is reported.

For each group: the source runs on every witness input and must still print the recorded
`expected`; every winner must behave exactly like the source on those inputs; every loser must
still differ from the source on its own witness, in the recorded way (output, exit_code, crash or
timeout), and as many times in a row as it did at build time.
"""

from __future__ import annotations

from dataclasses import dataclass

from oorl.ir import drivers
from oorl.ir.execute import Kind, Program, difference, parse, request, run_against, run_reference, script
from oorl.ir.normalize import restore_header
from oorl.ir.schema import IRGroup, Witness


@dataclass(frozen=True)
class ReplaySettings:
    input_timeout_s: float = 1.0
    run_time_s: float = 60.0


def _stdin(w: Witness) -> str:
    return w.stdin if w.stdin is not None else drivers.args_stdin(w.args or [])


def driver_for(group: IRGroup) -> str | None:
    """The driver a function-level group was executed with (regenerated: it is a function of the source)."""
    if group.provenance.get("kind") != "functions":
        return None
    return drivers.make_driver(drivers.callable_functions(group.source))


def kind_holds(group: IRGroup, recorded: Kind, now: Kind | None) -> bool:
    """The loser still differs the recorded way. Files built before `exit_code` existed (no
    `witness_runs` in provenance) called every other exit status a crash, stdout aside."""
    if recorded == "crash" and "witness_runs" not in group.provenance:
        return now in ("crash", "exit_code", "output")
    return now == recorded


def replay_group(group: IRGroup, sb, settings: ReplaySettings = ReplaySettings()) -> list[str]:
    """Every way the group's witnesses no longer hold (empty: all confirmed)."""
    if not group.losers:
        return []
    t, rt = settings.input_timeout_s, settings.run_time_s
    driver = driver_for(group)
    inputs = list(dict.fromkeys(_stdin(lo.witness) for lo in group.losers))
    ref = run_reference(sb, Program(group.source, "c", driver), inputs, t, rt)
    if ref.error is not None:
        return [f"{group.id}: the source no longer runs: {ref.error}"]
    ref_out = [ref.outcomes[i] for i in range(len(inputs))]
    problems = []
    for lo in group.losers:
        o = ref_out[inputs.index(_stdin(lo.witness))]
        if o.stdout != lo.witness.expected or o.timed_out:
            problems.append(
                f"{group.id}: the source now prints {o.stdout[:80]!r}, the witness expects {lo.witness.expected[:80]!r}"
            )

    def prog(ir: str) -> Program:
        return Program(restore_header(ir, group.exec), "ir", driver)

    for w, run in zip(
        group.winners,
        run_against(sb, [prog(w.ir) for w in group.winners], inputs, ref_out, t, rt),
        strict=True,
    ):
        if run.error is not None or not run.all_same:
            problems.append(
                f"{group.id}: winner {'/'.join(w.opt_levels)} differs from the source ({run.error or 'on a witness input'})"
            )

    reqs = []
    for lo in group.losers:
        i = inputs.index(_stdin(lo.witness))
        again = max(0, lo.witness.runs - 1)
        reqs.append(request(script(prog(lo.ir), [inputs[i]], t, expected=[ref_out[i]], reruns=again), rt))
    for k, (lo, res) in enumerate(zip(group.losers, sb.judge_many(reqs), strict=True)):
        run = parse(res)
        where = f"{group.id}: loser {k} ({lo.operator})"
        if run.error is not None:
            problems.append(f"{where}: {run.error}")
            continue
        if run.all_same:
            problems.append(f"{where}: behaves like the source on its witness")
            continue
        i = inputs.index(_stdin(lo.witness))
        kind = difference(run.outcomes[0], ref_out[i])
        if not kind_holds(group, lo.witness.kind, kind):
            problems.append(f"{where}: differs by {kind}, the witness says {lo.witness.kind}")
        elif not run.reproduced(0):
            problems.append(f"{where}: differs once, but not the same way on every rerun")
    return problems
