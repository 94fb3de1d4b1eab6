"""Parse + verify textual IR in process with llvmlite 0.39, which is built on LLVM 14 like clang-14.

~0.07 ms per module against ~27 ms for an `llvm-as` subprocess (docs/IR_PIPELINE.md; measured again
by benchmarks/ir_build.py). Only verification happens here: llvmlite never re-prints text the model
will see (a newer LLVM would print `ptr` instead of typed pointers).
"""

from __future__ import annotations

import functools


@functools.cache
def _llvm():
    import llvmlite.binding as llvm

    llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    return llvm


def llvm_version() -> str:
    return ".".join(map(str, _llvm().llvm_version_info))


def verify_error(ir: str) -> str | None:
    """None when `ir` parses and passes the LLVM verifier, else the error on one line."""
    llvm = _llvm()
    try:
        llvm.parse_assembly(ir).verify()
    except RuntimeError as e:
        msg = " ".join(line.strip() for line in str(e).strip().splitlines() if line.strip())
        return msg[:500] or "invalid IR"
    return None


def verifies(ir: str) -> bool:
    return verify_error(ir) is None
