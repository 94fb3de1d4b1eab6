import pytest

from oorl.ir.toolchain import llvm_as_verifies
from oorl.ir.verify import llvm_version, verify_error

GOOD = "define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %x, 1\n  ret i32 %y\n}\n"
BAD_DOMINANCE = (
    "define i32 @f(i32 %x) {\nentry:\n  %y = add i32 %z, 1\n  %z = add i32 %x, 1\n  ret i32 %y\n}\n"
)


def test_llvmlite_is_llvm_14_like_clang_14():
    assert llvm_version().startswith("14.")


def test_verify_accepts_valid_and_rejects_invalid_ir():
    assert verify_error(GOOD) is None
    assert verify_error("define i32 @f( {") is not None  # parse error
    assert verify_error(BAD_DOMINANCE) is not None  # parses, fails the verifier


@pytest.mark.sandbox
def test_in_process_and_subprocess_verification_agree():
    for text in (GOOD, BAD_DOMINANCE, "define i32 @f( {"):
        assert (verify_error(text) is None) == llvm_as_verifies(text)
