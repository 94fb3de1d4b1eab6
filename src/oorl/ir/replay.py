"""Re-execute every witness of a group file in the sandbox: a witness that no longer holds is reported.

For each group: the source runs on every witness input and must still print the recorded
`expected`; every winner must behave exactly like the source on those inputs; every loser must
still differ from the source on its own witness, in the recorded way (output, crash or timeout).
"""

from __future__ import annotations

from dataclasses import dataclass

from oorl.ir import drivers
from oorl.ir.execute import Program, difference, parse, request, run_against, run_reference, script
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
        reqs.append(request(script(prog(lo.ir), [inputs[i]], t, expected=[ref_out[i]]), rt))
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
        if kind != lo.witness.kind:
            problems.append(f"{where}: differs by {kind}, the witness says {lo.witness.kind}")
    return problems
