"""Differential execution in the sandbox: reference outcomes, first difference, crash and hang."""

import pytest

from oorl.ir.execute import Outcome, Program, difference, run_against, run_reference, run_references

pytestmark = pytest.mark.sandbox

ECHO_DOUBLE = '#include <stdio.h>\nint main(void){int x; if(scanf("%d",&x)!=1) return 4; printf("%d\\n", 2*x); return 0;}\n'
INPUTS = ["1\n", "5\n", "-3\n", "", "it's\n"]  # a quote and empty stdin survive the shell


def test_reference_reports_every_input(sandbox):
    run = run_reference(sandbox, Program(ECHO_DOUBLE, "c"), INPUTS, 1.0, 30)
    assert run.error is None
    assert [run.outcomes[i] for i in range(5)] == [
        Outcome(0, "2\n"),
        Outcome(0, "10\n"),
        Outcome(0, "-6\n"),
        Outcome(4, ""),
        Outcome(4, ""),
    ]


def test_compare_stops_at_first_difference_and_classifies_it(sandbox):
    ref = [run_reference(sandbox, Program(ECHO_DOUBLE, "c"), INPUTS, 1.0, 30).outcomes[i] for i in range(5)]
    same = ECHO_DOUBLE.replace("2*x", "x+x")
    wrong = ECHO_DOUBLE.replace("2*x", "x<0 ? 2*x+1 : 2*x")
    crash = ECHO_DOUBLE.replace("printf", "if (x == 5) __builtin_trap(); printf")
    hang = ECHO_DOUBLE.replace("printf", "while (x < 0) {} printf")
    runs = run_against(sandbox, [Program(p, "c") for p in (same, wrong, crash, hang)], INPUTS, ref, 0.5, 30)
    assert runs[0].all_same and runs[0].error is None
    assert runs[1].outcomes.keys() == {2} and difference(runs[1].outcomes[2], ref[2]) == "output"
    assert runs[1].outcomes[2].stdout == "-5\n"
    assert runs[2].outcomes.keys() == {1} and difference(runs[2].outcomes[1], ref[1]) == "crash"
    assert runs[3].outcomes.keys() == {2} and difference(runs[3].outcomes[2], ref[2]) == "timeout"


def test_ir_that_does_not_build_is_an_error_not_a_difference(sandbox):
    run = run_against(
        sandbox, [Program("define i32 @main() {\n  ret i32 0\n", "ir")], ["\n"], [Outcome(0, "")], 1.0, 30
    )
    assert run[0].build_failed and run[0].error and not run[0].all_same and not run[0].outcomes


def test_reference_repeats_report_large_outputs_and_whether_each_repeat_agreed(sandbox):
    """6000 bytes per input: three inputs' base64 overflow the 10k the sandbox keeps, so the
    reference is fetched over several runs; repeats are compared in the sandbox, not re-sent."""
    big = (
        "#include <stdio.h>\n#include <time.h>\n"
        'int main(void) { int x; struct timespec t; scanf("%d", &x); clock_gettime(CLOCK_REALTIME, &t);'
        '  int n = x == 2 ? printf("%09ld", t.tv_nsec) : 0;'  # input 2 starts with the clock's nanoseconds
        "  for (int i = n; i < 6000; i++) putchar(97 + (i + x) % 26); return 0; }\n"
    )
    (run,) = run_references(sandbox, [Program(big, "c")], ["0\n", "1\n", "2\n"], [1.0], 30, repeats=[3])
    assert run.error is None and run.all_same and sorted(run.outcomes) == [0, 1, 2]
    assert all(len(o.stdout) == 6000 and o.exit_code == 0 for o in run.outcomes.values())
    assert [len(run.reruns[i]) for i in range(3)] == [2, 2, 2]
    assert run.reproduced(0) and run.reproduced(1)
    assert not run.reproduced(2)
