import subprocess

import pytest
from ir_cases import MAX_LOOP

from oorl.ir.normalize import normalize_ir, restore_header, strip_comment
from oorl.ir.toolchain import compile_levels
from oorl.ir.verify import verify_error

RAW = """; ModuleID = 'x.c'
source_filename = "x.c"
target datalayout = "e-m:e-i64:64-S128"
target triple = "x86_64-pc-linux-gnu"

@.str = private unnamed_addr constant [7 x i8] c"a;b #1\\00", align 1

; Function Attrs: noinline nounwind optnone uwtable
define dso_local i32 @f(i32 noundef %x) local_unnamed_addr #0 {
entry:                                            ; preds = %0
  %add = add nsw i32 %x, 1, !tbaa !5
  br label %exit, !llvm.loop !6

exit:
  ret i32 %add
}

declare i32 @puts(i8* noundef) local_unnamed_addr #1

attributes #0 = { noinline nounwind optnone uwtable }
attributes #1 = { nounwind }

!llvm.module.flags = !{!0}
!0 = !{i32 1, !"wchar_size", i32 4}
"""


def test_strip_comment_keeps_semicolons_inside_strings():
    assert (
        strip_comment('@s = constant [4 x i8] c"a;b\\00" ; trailing') == '@s = constant [4 x i8] c"a;b\\00"'
    )
    assert strip_comment("  br label %x ; preds") == "  br label %x"


def test_normalize_removes_noise_and_keeps_exec_info():
    text, info = normalize_ir(RAW)
    assert info.datalayout == "e-m:e-i64:64-S128" and info.triple == "x86_64-pc-linux-gnu"
    assert text.count("#1") == 1  # only inside the string literal
    for gone in ("ModuleID", "source_filename", "target ", "attributes", "#0", "!tbaa", "!llvm",
                 "dso_local", "local_unnamed_addr", "noundef", "preds", "Function Attrs"):  # fmt: skip
        assert gone not in text, gone
    assert 'c"a;b #1\\00"' in text  # string contents untouched
    assert "define i32 @f(i32 %x) {" in text
    assert "declare i32 @puts(i8*)" in text
    assert "  %add = add nsw i32 %x, 1\n" in text
    assert verify_error(text) is None


def test_restore_header_puts_layout_and_triple_back():
    text, info = normalize_ir(RAW)
    restored = restore_header(text, info)
    assert restored.startswith(
        'target datalayout = "e-m:e-i64:64-S128"\ntarget triple = "x86_64-pc-linux-gnu"\n'
    )
    assert normalize_ir(restored) == (text, info)


@pytest.mark.sandbox
def test_every_level_normalises_to_valid_smaller_ir():
    outs = compile_levels(MAX_LOOP, ["O0", "O1", "O2", "O3", "Os", "Oz"])
    texts = {}
    for o in outs:
        assert o.ok
        text, _ = normalize_ir(o.ir)
        assert verify_error(text) is None, o.level
        assert len(text) < 0.75 * len(o.ir)
        texts[o.level] = text
    assert texts["O2"] == texts["O3"]  # as measured in IR_PIPELINE.md
    assert 3 <= len(set(texts.values())) <= 5


@pytest.mark.sandbox
def test_o0_with_and_without_optnone_normalise_equal():
    argv = ["clang-14", "-S", "-emit-llvm", "-fno-discard-value-names", "-O0", "-x", "c", "-", "-o", "-"]
    plain = subprocess.run(argv, input=MAX_LOOP, capture_output=True, text=True, check=True).stdout
    no_optnone = subprocess.run([*argv[:5], "-Xclang", "-disable-O0-optnone", *argv[5:]], input=MAX_LOOP,
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "optnone" in plain and "optnone" not in no_optnone
    assert normalize_ir(plain)[0] == normalize_ir(no_optnone)[0]
