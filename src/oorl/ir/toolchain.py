"""Every subprocess of the IR pipeline lives here: clang emitting IR, and llvm-as for comparison.

Compiling C to IR reads the source and writes text; it never executes the program, so it runs as
a plain subprocess with a timeout. Anything that *executes* IR goes through `oorl.sandbox`
(see oorl.ir.execute).
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# The flags docs/IR_PIPELINE.md (and SLTrans) use; -O? is added per level.
EMIT_FLAGS: tuple[str, ...] = ("-S", "-emit-llvm", "-fno-discard-value-names", "-w")
LANG_FLAGS = {"c": ("-x", "c", "-std=gnu11"), "cpp": ("-x", "c++", "-std=c++17")}


@dataclass(frozen=True)
class CompileOutput:
    level: str
    ok: bool
    ir: str
    error: str = ""


class ToolchainError(RuntimeError):
    """The compiler is missing or broken (our environment), as opposed to a source that does not compile."""


@functools.cache
def clang_version(clang: str = "clang-14") -> str:
    """The first line of `clang --version`, recorded in every group's provenance."""
    try:
        out = subprocess.run([clang, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise ToolchainError(f"cannot run {clang!r}: {e}") from None
    return out.stdout.splitlines()[0].strip()


def emit_argv(level: str, clang: str = "clang-14", lang: str = "c") -> list[str]:
    """The argv that turns stdin source into textual IR on stdout at `-{level}`."""
    return [clang, *EMIT_FLAGS, f"-{level}", *LANG_FLAGS[lang], "-", "-o", "-"]


def compile_one(
    source: str, level: str, *, clang: str = "clang-14", lang: str = "c", timeout_s: float = 30.0
) -> CompileOutput:
    """clang at one level; a compile error or timeout is a result, a missing clang is a ToolchainError."""
    try:
        p = subprocess.run(
            emit_argv(level, clang, lang), input=source, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return CompileOutput(level, False, "", f"clang timed out after {timeout_s:g} s")
    except OSError as e:
        raise ToolchainError(f"cannot run {clang!r}: {e}") from None
    if p.returncode != 0:
        return CompileOutput(level, False, "", p.stderr.strip()[-2000:])
    return CompileOutput(level, True, p.stdout)


def compile_levels(
    source: str, levels: Sequence[str], *, clang: str = "clang-14", lang: str = "c", timeout_s: float = 30.0
) -> list[CompileOutput]:
    """All levels at once (threads: each call is a separate clang process), in the order of `levels`."""
    with ThreadPoolExecutor(max_workers=len(levels)) as pool:
        return list(
            pool.map(lambda lv: compile_one(source, lv, clang=clang, lang=lang, timeout_s=timeout_s), levels)
        )


def llvm_as_verifies(ir: str, llvm_as: str = "llvm-as-14") -> bool:
    """Parse + verify with the `llvm-as` subprocess (the slow path the benchmark compares against)."""
    p = subprocess.run(
        [llvm_as, "-", "-o", "/dev/null"], input=ir, capture_output=True, text=True, timeout=60
    )
    return p.returncode == 0
