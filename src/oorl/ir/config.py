"""Settings of the IR-group builder (one typed model; YAML and the CLI only fill it in)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OptLevel = Literal["O0", "O1", "O2", "O3", "Os", "Oz"]
ALL_LEVELS: tuple[OptLevel, ...] = ("O0", "O1", "O2", "O3", "Os", "Oz")


class IRBuildConfig(BaseModel):
    """How groups are built: which levels, how big, how hard to look for witnesses."""

    model_config = ConfigDict(extra="forbid")

    opt_levels: list[OptLevel] = Field(list(ALL_LEVELS), description="clang levels compiled into winners")
    max_winners: int = Field(
        4,
        ge=1,
        description="most winners kept per group (fewest opt levels dropped first, then the least distinct)",
    )
    max_losers: int = Field(4, ge=1, description="most witnessed losers kept per group")
    min_winners: int = Field(2, ge=1, description="fewer distinct winners than this: the source is skipped")
    min_losers: int = Field(2, ge=1, description="fewer witnessed losers than this: the source is skipped")
    max_mutants_run: int = Field(
        16, ge=1, description="most mutants executed per group while looking for losers"
    )
    operators: list[str] | None = Field(None, description="mutation operators to use (None: all of them)")
    max_ir_chars: int | None = Field(
        None, ge=1, description="winners longer than this are dropped (keeps sequences short for tiny models)"
    )
    function_inputs: int = Field(32, ge=1, description="generated driver inputs per function-level source")
    input_timeout_s: float = Field(
        1.0, gt=0, description="wall seconds one input may run before it counts as a hang"
    )
    witness_runs: int = Field(
        2, ge=2, description="re-executions of each witness at build time; every one must reproduce the first"
    )
    hang_margin: float = Field(
        5.0, ge=5.0, description="a hang counts only where the source takes under input_timeout_s / this"
    )
    sanitize: bool = Field(
        True, description="drop inputs on which the source has undefined behaviour (UBSan, ASan, MSan)"
    )
    exit_code_losers: bool = Field(
        False, description="keep losers that differ only in main's exit status (witness kind exit_code)"
    )
    compile_timeout_s: float = Field(30.0, gt=0, description="wall seconds for one clang call")
    run_time_s: float = Field(60.0, gt=0, description="sandbox wall limit for one program on all its inputs")
    seed: int = Field(0, description="mutant sampling and driver inputs are deterministic given this seed")
    clang: str = Field(
        "clang-14", description="the C compiler that emits the IR (LLVM 14 matches llvmlite 0.39)"
    )

    @model_validator(mode="after")
    def _sizes(self) -> IRBuildConfig:
        if self.min_winners > self.max_winners:
            raise ValueError(f"min_winners ({self.min_winners}) > max_winners ({self.max_winners})")
        if self.min_losers > self.max_losers:
            raise ValueError(f"min_losers ({self.min_losers}) > max_losers ({self.max_losers})")
        if self.operators is not None:
            from oorl.ir.mutate import OPERATORS

            unknown = sorted(set(self.operators) - set(OPERATORS))
            if unknown:
                raise ValueError(f"unknown mutation operators {unknown}; known: {sorted(OPERATORS)}")
        return self
