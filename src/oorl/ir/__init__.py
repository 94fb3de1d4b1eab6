"""IR groups for GEPO: C sources compiled at every optimisation level (winners) and one-site mutants
that provably behave differently (losers, each with a witness input).

    from oorl.ir import IRBuildConfig, build_group
    from oorl.ir.sources import from_problems
    from oorl.sandbox import Sandbox
    with Sandbox() as sb:
        result = build_group(next(from_problems("problems.jsonl")), sb, IRBuildConfig())  # IRGroup | Skipped

Modules: toolchain (clang: the only subprocess), normalize, verify (llvmlite, in process), winners,
mutate, drivers (function-level sources), execute (runs in the sandbox), reference (the source's
behaviour, sanitizer-checked), losers (witnesses that hold up), build, replay, stats, sources, cli.
Names are imported lazily so that `oorl --help` does not load the pipeline.
"""

from importlib import import_module

_EXPORTS = {
    "build_all": "oorl.ir.build",
    "build_group": "oorl.ir.build",
    "c_to_ir_prompt": "oorl.ir.build",
    "IRBuildConfig": "oorl.ir.config",
    "ExecInfo": "oorl.ir.schema",
    "IRGroup": "oorl.ir.schema",
    "Loser": "oorl.ir.schema",
    "OperatorCounts": "oorl.ir.schema",
    "Site": "oorl.ir.schema",
    "Skipped": "oorl.ir.schema",
    "Winner": "oorl.ir.schema",
    "Witness": "oorl.ir.schema",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'oorl.ir' has no attribute {name!r}")
