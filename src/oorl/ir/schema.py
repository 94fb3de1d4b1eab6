"""The IR-group record: one JSON object per source program, the unit of GEPO's off-policy batch.

    {"id", "source_lang", "source", "prompt",
     "winners": [{"ir", "opt_levels"}],
     "losers":  [{"ir", "operator", "from_opt_level", "site", "witness": {...}}],
     "exec": {"datalayout", "triple"},
     "provenance": {...}}

Winners are IRs equivalent to the source (distinct normalised outputs of clang at -O0..-Oz); losers
are one-site mutants of a winner that provably behave differently: each carries a witness input on
which its output differs from the source's, or it crashes, or it hangs (paper/IR_PIPELINE.md), seen
`runs` times alike at build time, on an input where the source has no undefined behaviour.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Witness(BaseModel):
    """An input on which a loser provably differs from the source.

    Whole programs are fed `stdin`; function-level sources are called through a generated driver
    with `args` = [function name, argument, ...] (the driver reads them as one line of stdin).
    """

    model_config = ConfigDict(extra="forbid")

    stdin: str | None = Field(None, description="the program's stdin (whole programs)")
    args: list[str] | None = Field(None, description="[function, arg1, ...] (function-level sources)")
    expected: str = Field(description="the source's stdout on this input")
    observed: str = Field(description="the loser's stdout on this input (up to where it stopped)")
    kind: Literal["output", "exit_code", "crash", "timeout"] = Field(
        description="output: different stdout; exit_code: same stdout, another exit status from a normal "
        "exit (main's return value); crash: killed by a signal; timeout: hangs where the source is fast"
    )
    runs: int = Field(
        1,
        ge=1,
        description="times the loser was seen to differ this way at build time (1: files built before re-execution)",
    )

    @model_validator(mode="after")
    def _one_input(self) -> Witness:
        if (self.stdin is None) == (self.args is None):
            raise ValueError("a witness has exactly one of 'stdin' or 'args'")
        return self


class Site(BaseModel):
    """Where a mutation was applied: the function, the line in the winner's IR, and the edit."""

    model_config = ConfigDict(extra="forbid")

    function: str | None = Field(None, description="the enclosing function, None outside any")
    line: int = Field(description="0-based line index in the winner's normalised IR")
    before: str = Field(description="the original line")
    after: str = Field(description="the mutated line ('' when the line was deleted)")


class Winner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ir: str = Field(description="normalised textual LLVM IR (no datalayout/triple)")
    opt_levels: list[str] = Field(
        description="the clang levels that produced this exact text, e.g. ['O2', 'O3']"
    )


class Loser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ir: str = Field(description="normalised textual LLVM IR that parses and verifies but is not equivalent")
    operator: str = Field(description="the mutation operator (oorl.ir.mutate.OPERATORS)")
    from_opt_level: str = Field(description="the first opt level of the winner it was mutated from")
    site: Site | None = None
    witness: Witness


class ExecInfo(BaseModel):
    """What normalisation removed and execution needs back."""

    model_config = ConfigDict(extra="forbid")

    datalayout: str | None = None
    triple: str | None = None


class IRGroup(BaseModel):
    """One GEPO group: a C-to-IR prompt with its winner and loser IRs."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source_lang: str = "c"
    source: str
    prompt: str
    winners: list[Winner]
    losers: list[Loser]
    exec: ExecInfo
    provenance: dict = Field(
        default_factory=dict,
        description="compiler version, flags, source sha256, kind (program | functions), per-operator counts",
    )


class OperatorCounts(BaseModel):
    """Per-operator bookkeeping of one source: how many mutants were made, valid, run, and witnessed."""

    model_config = ConfigDict(extra="forbid")

    attempted: int = 0
    valid: int = 0
    executed: int = 0
    witnessed: int = 0
    unconfirmed: dict[str, int] = Field(
        default_factory=dict,
        description="differences that did not hold up, by why: not_reproduced (a rerun behaved otherwise), "
        "slow_source (a hang where the source takes over input_timeout_s / hang_margin)",
    )
    kinds: dict[str, int] = Field(default_factory=dict, description="witness kind -> count")


class Skipped(BaseModel):
    """A source that produced no group, and why (a row of the `<out>.skipped.jsonl` sidecar)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    reason: str = Field(description="short machine-readable reason, e.g. 'compile_error', 'too_few_losers'")
    detail: str = ""
    operators: dict[str, OperatorCounts] = Field(default_factory=dict)
