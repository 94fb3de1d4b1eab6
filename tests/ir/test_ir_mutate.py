from collections import Counter

import pytest
from ir_cases import MAX_LOOP

from oorl.ir.mutate import (
    OPERATORS,
    arith_swap,
    br_swap,
    const_perturb,
    icmp_boundary,
    icmp_negate,
    interleave_by_operator,
    mutants,
    operand_swap,
    phi_swap,
    select_swap,
    store_drop,
)
from oorl.ir.normalize import normalize_ir
from oorl.ir.toolchain import compile_levels
from oorl.ir.verify import verify_error


@pytest.mark.parametrize(
    ("op", "line", "expected"),
    [
        (arith_swap, "  %a = add nsw i32 %x, 1", ["  %a = sub nsw i32 %x, 1"]),
        (arith_swap, "  %a = sdiv exact i32 %x, 4", ["  %a = srem i32 %x, 4"]),  # exact is invalid on srem
        (arith_swap, "  %a = shl nuw nsw i64 %x, 2", ["  %a = lshr i64 %x, 2"]),
        (arith_swap, "  %a = fadd double %x, %y", ["  %a = fsub double %x, %y"]),
        (icmp_negate, "  %c = icmp slt i32 %i, %n", ["  %c = icmp sge i32 %i, %n"]),
        (icmp_negate, "  %c = icmp eq i8* %p, null", ["  %c = icmp ne i8* %p, null"]),
        (icmp_boundary, "  %c = icmp ugt i64 %a, 7", ["  %c = icmp uge i64 %a, 7"]),
        (icmp_boundary, "  %c = icmp eq i32 %a, 7", []),
        (br_swap, "  br i1 %c, label %then, label %else", ["  br i1 %c, label %else, label %then"]),
        (br_swap, "  br label %loop", []),
        (select_swap, "  %s = select i1 %c, i32 %a, i32 0", ["  %s = select i1 %c, i32 0, i32 %a"]),
        (operand_swap, "  %d = sub i32 %a, %b", ["  %d = sub i32 %b, %a"]),
        (operand_swap, "  %d = add i32 %a, %b", []),  # commutative: swapping changes nothing
        (operand_swap, "  %c = icmp sle i32 %a, 3", ["  %c = icmp sle i32 3, %a"]),
        (operand_swap, "  %c = icmp eq i32 %a, 3", []),
        (store_drop, "  store i32 0, i32* %x, align 4", [""]),
        (const_perturb, "  %a = add nsw i32 %x, 1", ["  %a = add nsw i32 %x, 2"]),
        (const_perturb, "  store i32 5, i32* %x, align 4", ["  store i32 6, i32* %x, align 4"]),
        (const_perturb, "  ret i32 0", ["  ret i32 1"]),
        (const_perturb, "  %p = phi i32 [ 0, %a ], [ %n, %b ]", ["  %p = phi i32 [ 1, %a ], [ %n, %b ]"]),
        (const_perturb, "  %x = alloca [10 x i32], align 16", []),
        (const_perturb, "  %g = getelementptr inbounds [4 x i8], [4 x i8]* @s, i64 0, i64 0", []),
        (const_perturb, "  %a = add i8 %x, 127", ["  %a = add i8 %x, 126"]),  # stays inside i8
        (phi_swap, "  %r = phi i32 [ 0, %a ], [ 1, %b ]", ["  %r = phi i32 [ 1, %a ], [ 0, %b ]"]),
        (phi_swap, "  %r = phi i32 [ 0, %a ], [ %v, %b ]", []),  # a register may not dominate the other edge
    ],
)
def test_operator_edits_one_line(op, line, expected):
    assert op(line) == expected


@pytest.mark.sandbox
def test_mutants_edit_exactly_one_line_and_name_the_function(max_ir_o0):
    ir, _ = max_ir_o0
    ms = list(mutants(ir))
    assert {m.operator for m in ms} >= {"arith_swap", "icmp_negate", "br_swap", "store_drop", "const_perturb"}
    lines = ir.split("\n")
    for m in ms[:50]:
        assert m.ir != ir
        assert m.site.function == "main"
        assert lines[m.site.line].strip() == m.site.before
        new = m.ir.split("\n")
        assert len(new) == len(lines) - (1 if m.site.after == "" else 0)


@pytest.mark.sandbox
def test_all_mutants_of_real_programs_verify():
    """Validity as measured in IR_PIPELINE.md: every operator here keeps the IR valid."""
    tried, valid = Counter(), Counter()
    for o in compile_levels(MAX_LOOP, ["O0", "O2", "Oz"]):
        text, _ = normalize_ir(o.ir)
        for m in mutants(text):
            tried[m.operator] += 1
            valid[m.operator] += verify_error(m.ir) is None
    assert tried == valid
    assert set(tried) >= set(OPERATORS) - {"select_swap"}


@pytest.mark.sandbox
def test_interleave_is_deterministic_and_rotates_operators(max_ir_o0):
    ms = list(mutants(max_ir_o0[0]))
    a, b = interleave_by_operator(ms, seed=3), interleave_by_operator(ms, seed=3)
    assert [m.ir for m in a] == [m.ir for m in b]
    n_ops = len({m.operator for m in ms})
    assert len({m.operator for m in a[:n_ops]}) == n_ops
    assert sorted(m.ir for m in a) == sorted(m.ir for m in ms)
