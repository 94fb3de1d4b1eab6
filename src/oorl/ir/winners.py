"""Winners: the distinct normalised IRs of one source across clang's optimisation levels.

compile -O0..-Oz -> normalise -> verify -> de-duplicate -> keep the most distinct `max_winners`
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence

from oorl.ir.config import IRBuildConfig
from oorl.ir.normalize import normalize_ir
from oorl.ir.schema import ExecInfo, Skipped, Winner
from oorl.ir.sources import CSource
from oorl.ir.toolchain import compile_levels
from oorl.ir.verify import verify_error


def distance(a: str, b: str) -> float:
    """How unlike two IR texts are: 1 - difflib's similarity ratio of their lines (0 = identical)."""
    return 1.0 - difflib.SequenceMatcher(None, a.split("\n"), b.split("\n"), autojunk=False).ratio()


def most_distinct(winners: Sequence[Winner], k: int) -> list[Winner]:
    """The `k` winners to keep, in their original (level) order: those that stand for the most opt
    levels, and among equal choices the ones most unlike each other (largest smallest pairwise
    distance, then largest total), so that near-copies such as -O1/-Os are dropped before -O0 or -Oz.

    At most six levels give at most C(6, 3) = 20 subsets to compare: an exhaustive search is exact
    and cheap."""
    if len(winners) <= k:
        return list(winners)
    d = {
        (i, j): distance(winners[i].ir, winners[j].ir)
        for i, j in itertools.combinations(range(len(winners)), 2)
    }

    def score(subset: tuple[int, ...]) -> tuple[int, float, float]:
        pairs = [d[p] for p in itertools.combinations(subset, 2)] or [0.0]
        return sum(len(winners[i].opt_levels) for i in subset), min(pairs), sum(pairs)

    # max() keeps the first of equal scores: subsets come in level order, so ties favour earlier levels
    best = max(itertools.combinations(range(len(winners)), k), key=score)
    return [winners[i] for i in best]


def winners_for(item: CSource, cfg: IRBuildConfig) -> tuple[list[Winner], ExecInfo] | Skipped:
    """The source's winners within the config's limits (and what execution needs back), or why not."""
    outs = compile_levels(item.source, cfg.opt_levels, clang=cfg.clang, timeout_s=cfg.compile_timeout_s)
    failed = [o for o in outs if not o.ok]
    if failed:
        reason = "compile_timeout" if "timed out" in failed[0].error else "compile_error"
        return Skipped(id=item.id, reason=reason, detail=f"-{failed[0].level}: {failed[0].error}"[:2000])
    by_text: dict[str, list[str]] = {}
    exec_info = normalize_ir(outs[0].ir)[1]  # every level of one clang run shares these
    for level, raw in [(o.level, o.ir) for o in outs] + list(item.extra_winners.items()):
        text, _ = normalize_ir(raw)
        err = verify_error(text)
        if err is not None:
            if level in item.extra_winners:
                continue  # a dataset IR from another LLVM: not ours to keep
            return Skipped(id=item.id, reason="normalised_ir_invalid", detail=f"-{level}: {err}"[:2000])
        if cfg.max_ir_chars is not None and len(text) > cfg.max_ir_chars:
            continue
        by_text.setdefault(text, []).append(level)
    winners = most_distinct([Winner(ir=t, opt_levels=lv) for t, lv in by_text.items()], cfg.max_winners)
    if len(winners) < cfg.min_winners:
        detail = f"{len(winners)} distinct IR(s) within the limits"
        return Skipped(id=item.id, reason="too_few_winners", detail=detail)
    return winners, exec_info
