import subprocess

import pytest

from oorl.ir.drivers import args_stdin, callable_functions, has_main, make_driver, make_inputs

SOURCE = """#include <stdlib.h>
static int twice(int x) { return x * 2; }
int gcd(int a, int b) { while (b) { int t = a % b; a = b; b = t; } return a; }
double lerp(double a, double b, double t) { return a + (b - a) * t; }
unsigned long popcount(unsigned long x) { int c = 0; while (x) { c += x & 1; x >>= 1; } return c; }
void fill(int *p, int n) { for (int i = 0; i < n; i++) p[i] = twice(i); }
int sum(const int *xs, int n) { int s = 0; for (int i = 0; i < n; i++) s += xs[i]; return s; }
char upper(char c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }
"""


def test_only_non_static_scalar_functions_are_callable():
    fs = {f.name: f for f in callable_functions(SOURCE)}
    assert sorted(fs) == ["gcd", "lerp", "popcount", "upper"]
    assert [p.type for p in fs["lerp"].params] == ["double", "double", "double"]
    assert fs["popcount"].ret == "unsigned long"
    assert not has_main(SOURCE) and has_main("int main(void) { return 0; }")


@pytest.mark.sandbox
def test_driver_is_valid_c_against_the_source():
    driver = make_driver(callable_functions(SOURCE))
    for name in ("gcd", "lerp", "popcount", "upper"):
        assert f'strcmp(name, "{name}")' in driver
    assert '"%.17g\\n"' in driver  # floating point printed without losing digits
    # compile only (-fsyntax-only executes nothing): prototypes match the definitions
    both = SOURCE + "\n" + driver.replace("#include", "\n#include")
    p = subprocess.run(["clang-14", "-fsyntax-only", "-Werror=implicit-function-declaration", "-x", "c", "-"],
                       input=both, capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr


def test_inputs_are_deterministic_distinct_and_typed():
    fs = callable_functions(SOURCE)
    a, b = make_inputs(fs, 10, seed=1), make_inputs(fs, 10, seed=1)
    assert a == b and a != make_inputs(fs, 10, seed=2)
    for name in ("gcd", "lerp", "popcount", "upper"):
        rows = [r for r in a if r[0] == name]
        assert len(rows) == 10 and len({tuple(r) for r in rows}) == 10
    assert all(int(r[1]) >= 0 for r in a if r[0] == "popcount")
    assert all("." in v for r in a if r[0] == "lerp" for v in r[1:])
    assert args_stdin(["gcd", "4", "6"]) == "gcd 4 6\n"
