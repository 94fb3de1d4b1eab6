"""Idiomatic renderings of a grammar program in 13 languages.

All renderings read the input format of `program.py` from stdin, hold integers as 64-bit values
(`long long`, `long`, `int64`, `i64`, Haskell's `Int`; JavaScript's doubles are exact in the range
the generator allows), and use floor division / modulo: native in Python (`//`, `%`), Haskell
(`div`, `mod`), Java and Scala (`Math.floorDiv`, `Math.floorMod`); elsewhere through helpers built
on truncating `%`: `fmod(a, b) = ((a % b) + b) % b` (true for either sign of b) and
`fdiv(a, b) = (a - fmod(a, b)) / b` (an exact division, so truncation is floor).
"""

from __future__ import annotations

from collections.abc import Callable

from oorl.tasks.synthetic.program import (
    Abs,
    Assign,
    Bin,
    BoolOp,
    Cmp,
    Const,
    CountChar,
    Elem,
    FloorDiv,
    FloorMod,
    ForEach,
    If,
    Index,
    MinMax,
    Not,
    Program,
    Repeat,
    StrLen,
    Var,
    assigned,
    chars_counted,
)

IND = "    "


class Syntax:
    """Expression and statement syntax of a brace language; subclasses override the differences."""

    and_, or_, not_ = "&&", "||", "!"
    neq = "!="
    stmt_end = ";"
    loop_decl = "long long"  # how a C-style `for` declares its counter
    int_suffix = ""  # 64-bit integer literals: Java, C# and Scala need `L`

    # expressions
    def var(self, name: str) -> str:
        return name

    def const(self, v: int) -> str:
        return f"({v}{self.int_suffix})" if v < 0 else f"{v}{self.int_suffix}"

    def elem(self, loop: str) -> str:
        return f"a[{loop}]"

    def index(self, loop: str) -> str:
        return loop

    def fdiv(self, a: str, d: int) -> str:
        return f"fdiv({a}, {self.const(d)})"

    def fmod(self, a: str, d: int) -> str:
        return f"fmod({a}, {self.const(d)})"

    def minmax(self, fn: str, a: str, b: str) -> str:
        return f"{fn}({a}, {b})"

    def abs(self, a: str) -> str:
        return f"abs({a})"

    def strlen(self) -> str:
        raise NotImplementedError

    def count(self, ch: str) -> str:
        raise NotImplementedError

    def expr(self, e) -> str:
        if isinstance(e, Const):
            return self.const(e.value)
        if isinstance(e, Var):
            return self.var(e.name)
        if isinstance(e, Elem):
            return self.elem(e.loop)
        if isinstance(e, Index):
            return self.index(e.loop)
        if isinstance(e, Bin):
            return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
        if isinstance(e, FloorDiv):
            return self.fdiv(self.expr(e.left), e.divisor)
        if isinstance(e, FloorMod):
            return self.fmod(self.expr(e.left), e.divisor)
        if isinstance(e, MinMax):
            return self.minmax(e.fn, self.expr(e.left), self.expr(e.right))
        if isinstance(e, Abs):
            return self.abs(self.expr(e.arg))
        if isinstance(e, StrLen):
            return self.strlen()
        if isinstance(e, CountChar):
            return self.count(e.char)
        raise TypeError(e)

    def cond(self, c) -> str:
        if isinstance(c, Cmp):
            op = self.neq if c.op == "!=" else c.op
            return f"{self.expr(c.left)} {op} {self.expr(c.right)}"
        if isinstance(c, BoolOp):
            op = self.and_ if c.op == "and" else self.or_
            return f"({self.cond(c.left)}) {op} ({self.cond(c.right)})"
        return f"{self.not_}({self.cond(c.arg)})"

    # statements
    def assign(self, var: str, value: str) -> str:
        return f"{self.var(var)} = {value}{self.stmt_end}"

    def if_open(self, cond: str) -> str:
        return f"if ({cond}) {{"

    def else_line(self) -> str:
        return "} else {"

    def foreach_open(self, loop: str) -> str:
        return f"for ({self.loop_decl} {loop} = 0; {loop} < n; {loop}++) {{"

    def repeat_open(self, loop: str, count: int) -> str:
        return f"for ({self.loop_decl} {loop} = 0; {loop} < {count}; {loop}++) {{"

    def block_close(self) -> str:
        return "}"

    def stmts(self, stmts, depth: int) -> list[str]:
        pad = IND * depth
        out: list[str] = []
        for st in stmts:
            if isinstance(st, Assign):
                out.append(pad + self.assign(st.var, self.expr(st.value)))
            elif isinstance(st, If):
                out.append(pad + self.if_open(self.cond(st.cond)))
                out += self.stmts(st.then, depth + 1)
                if st.orelse:
                    out.append(pad + self.else_line())
                    out += self.stmts(st.orelse, depth + 1)
                out.append(pad + self.block_close())
            elif isinstance(st, ForEach):
                out.append(pad + self.foreach_open(st.loop))
                out += self.stmts(st.body, depth + 1)
                out.append(pad + self.block_close())
            elif isinstance(st, Repeat):
                out.append(pad + self.repeat_open(st.loop, st.count))
                out += self.stmts(st.body, depth + 1)
                out.append(pad + self.block_close())
        return out

    def render(self, p: Program) -> str:
        raise NotImplementedError


def _body(syn: Syntax, p: Program, depth: int) -> list[str]:
    return syn.stmts(p.body, depth)


# --- Python ----------------------------------------------------------------------------------------


class PythonSyntax(Syntax):
    and_, or_, not_ = "and", "or", "not "
    stmt_end = ""

    def fdiv(self, a, d):
        return f"({a} // {self.const(d)})"

    def fmod(self, a, d):
        return f"({a} % {self.const(d)})"

    def strlen(self):
        return "len(s)"

    def count(self, ch):
        return f's.count("{ch}")'

    def if_open(self, cond):
        return f"if {cond}:"

    def else_line(self):
        return "else:"

    def foreach_open(self, loop):
        return f"for {loop} in range(n):"

    def repeat_open(self, loop, count):
        return f"for {loop} in range({count}):"

    def block_close(self):
        return ""

    def stmts(self, stmts, depth):
        return [ln for ln in super().stmts(stmts, depth) if ln.strip()]

    def render(self, p):
        lines = [
            "import sys",
            "",
            "",
            "def main():",
            "    data = sys.stdin.read().split()",
            "    x, y, n = int(data[0]), int(data[1]), int(data[2])",
            "    a = [int(t) for t in data[3 : 3 + n]]",
            "    s = data[3 + n]",
        ]
        lines += [f"    {nm} = {v}" for nm, v in p.locals]
        lines += _body(self, p, 1)
        lines += [f"    print({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines.append("    print(s[::-1])")
        lines += ["", "", 'if __name__ == "__main__":', "    main()"]
        return "\n".join(lines) + "\n"


# --- C and C++ -------------------------------------------------------------------------------------


class CSyntax(Syntax):
    def minmax(self, fn, a, b):
        return f"{fn}_({a}, {b})"

    def abs(self, a):
        return f"llabs({a})"

    def strlen(self):
        return "(long long)strlen(s)"

    def count(self, ch):
        return f"count_char(s, '{ch}')"

    def render(self, p):
        lines = [
            "#include <stdio.h>",
            "#include <stdlib.h>",
            "#include <string.h>",
            "",
            "/* floor modulo and division (C's % and / truncate toward zero) */",
            "static long long fmod(long long a, long long b) { return ((a % b) + b) % b; }",
            "static long long fdiv(long long a, long long b) { return (a - fmod(a, b)) / b; }",
            "static long long min_(long long a, long long b) { return a < b ? a : b; }",
            "static long long max_(long long a, long long b) { return a > b ? a : b; }",
            "",
            "static long long count_char(const char *s, char c) {",
            "    long long k = 0;",
            "    for (; *s; s++) k += *s == c;",
            "    return k;",
            "}",
            "",
            "int main(void) {",
            "    long long x, y, n;",
            "    static long long a[1024];",
            "    static char s[1024];",
            '    if (scanf("%lld %lld %lld", &x, &y, &n) != 3) return 1;',
            '    for (long long i = 0; i < n; i++) if (scanf("%lld", &a[i]) != 1) return 1;',
            '    if (scanf("%1023s", s) != 1) return 1;',
        ]
        lines += [f"    long long {nm} = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 1)
        lines += [f'    printf("%lld\\n", (long long)({self.expr(e)}));' for e in p.outputs]
        if p.print_reversed:
            lines.append("    for (long long i = (long long)strlen(s) - 1; i >= 0; i--) putchar(s[i]);")
            lines.append("    putchar('\\n');")
        lines += ["    return 0;", "}"]
        # `fmod` is <math.h>'s floating-point remainder: the helpers get names of their own
        return "\n".join(lines).replace("fmod(", "floor_mod(").replace("fdiv(", "floor_div(") + "\n"


class CppSyntax(Syntax):
    def minmax(self, fn, a, b):
        return f"std::{fn}<long long>({a}, {b})"

    def abs(self, a):
        return f"std::llabs({a})"

    def strlen(self):
        return "(long long)s.size()"

    def count(self, ch):
        return f"(long long)std::count(s.begin(), s.end(), '{ch}')"

    def render(self, p):
        lines = [
            "#include <algorithm>",
            "#include <cstdlib>",
            "#include <iostream>",
            "#include <string>",
            "#include <vector>",
            "",
            "// floor modulo and division (C++'s % and / truncate toward zero)",
            "long long fmod(long long a, long long b) { return ((a % b) + b) % b; }",
            "long long fdiv(long long a, long long b) { return (a - fmod(a, b)) / b; }",
            "",
            "int main() {",
            "    std::ios::sync_with_stdio(false);",
            "    long long x, y, n;",
            "    std::cin >> x >> y >> n;",
            "    std::vector<long long> a(n);",
            "    for (auto &v : a) std::cin >> v;",
            "    std::string s;",
            "    std::cin >> s;",
        ]
        lines += [f"    long long {nm} = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 1)
        lines += [f'    std::cout << {self.expr(e)} << "\\n";' for e in p.outputs]
        if p.print_reversed:
            lines.append('    std::cout << std::string(s.rbegin(), s.rend()) << "\\n";')
        lines += ["    return 0;", "}"]
        return "\n".join(lines).replace("fmod(", "floor_mod(").replace("fdiv(", "floor_div(") + "\n"


# --- Java, C#, Scala -------------------------------------------------------------------------------


class JavaSyntax(Syntax):
    loop_decl, int_suffix = "int", "L"

    def fdiv(self, a, d):
        return f"Math.floorDiv({a}, {d}L)"

    def fmod(self, a, d):
        return f"Math.floorMod({a}, {d}L)"

    def minmax(self, fn, a, b):
        return f"Math.{fn}({a}, {b})"

    def abs(self, a):
        return f"Math.abs({a})"

    def strlen(self):
        return "(long) s.length()"

    def count(self, ch):
        return f"s.chars().filter(c -> c == '{ch}').count()"

    def render(self, p):
        lines = [
            "import java.util.Scanner;",
            "",
            "public class Main {",
            "    public static void main(String[] args) {",
            "        Scanner in = new Scanner(System.in);",
            "        long x = in.nextLong(), y = in.nextLong(), n = in.nextLong();",
            "        long[] a = new long[(int) n];",
            "        for (int i = 0; i < n; i++) a[i] = in.nextLong();",
            "        String s = in.next();",
        ]
        lines += [f"        long {nm} = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 2)
        lines += [f"        System.out.println({self.expr(e)});" for e in p.outputs]
        if p.print_reversed:
            lines.append("        System.out.println(new StringBuilder(s).reverse());")
        lines += ["    }", "}"]
        return "\n".join(lines) + "\n"


class CSharpSyntax(Syntax):
    loop_decl, int_suffix = "int", "L"

    def fdiv(self, a, d):
        return f"FloorDiv({a}, {self.const(d)})"

    def fmod(self, a, d):
        return f"FloorMod({a}, {self.const(d)})"

    def minmax(self, fn, a, b):
        return f"Math.{fn.capitalize()}({a}, {b})"

    def abs(self, a):
        return f"Math.Abs({a})"

    def strlen(self):
        return "(long) s.Length"

    def count(self, ch):
        return f"(long) s.Count(c => c == '{ch}')"

    def render(self, p):
        lines = [
            "using System;",
            "using System.Linq;",
            "",
            "public static class Program",
            "{",
            "    // floor modulo and division (C#'s % and / truncate toward zero)",
            "    static long FloorMod(long a, long b) { return ((a % b) + b) % b; }",
            "    static long FloorDiv(long a, long b) { return (a - FloorMod(a, b)) / b; }",
            "",
            "    public static void Main()",
            "    {",
            "        var tok = Console.In.ReadToEnd().Split((char[]) null, StringSplitOptions.RemoveEmptyEntries);",
            "        long x = long.Parse(tok[0]), y = long.Parse(tok[1]), n = long.Parse(tok[2]);",
            "        long[] a = tok.Skip(3).Take((int) n).Select(t => long.Parse(t)).ToArray();",
            "        string s = tok[3 + n];",
        ]
        lines += [f"        long {nm} = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 2)
        lines += [f"        Console.WriteLine({self.expr(e)});" for e in p.outputs]
        if p.print_reversed:
            lines.append("        Console.WriteLine(new string(s.Reverse().ToArray()));")
        lines += ["    }", "}"]
        return "\n".join(lines) + "\n"


class ScalaSyntax(Syntax):
    stmt_end = ""
    int_suffix = "L"

    def fdiv(self, a, d):
        return f"java.lang.Math.floorDiv({a}, {d}L)"

    def fmod(self, a, d):
        return f"java.lang.Math.floorMod({a}, {d}L)"

    def minmax(self, fn, a, b):
        return f"math.{fn}({a}, {b})"

    def abs(self, a):
        return f"math.abs({a})"

    def elem(self, loop):
        return f"a({loop})"

    def index(self, loop):
        return f"{loop}.toLong"

    def strlen(self):
        return "s.length.toLong"

    def count(self, ch):
        return f"s.count(_ == '{ch}').toLong"

    def foreach_open(self, loop):
        return f"for ({loop} <- 0 until n.toInt) {{"

    def repeat_open(self, loop, count):
        return f"for ({loop} <- 0 until {count}) {{"

    def render(self, p):
        lines = [
            "object Main {",
            "  def main(args: Array[String]): Unit = {",
            '    val tok = scala.io.Source.stdin.mkString.split("\\\\s+").filter(_.nonEmpty)',
            "    val x = tok(0).toLong",
            "    val y = tok(1).toLong",
            "    val n = tok(2).toLong",
            "    val a = tok.slice(3, 3 + n.toInt).map(_.toLong)",
            "    val s = tok(3 + n.toInt)",
        ]
        lines += [f"    var {nm}: Long = {self.const(v)}" for nm, v in p.locals]
        lines += [ln.replace(IND, "  ") for ln in _body(self, p, 2)]
        lines += [f"    println({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines.append("    println(s.reverse)")
        lines += ["  }", "}"]
        return "\n".join(lines) + "\n"


# --- PHP, JavaScript, TypeScript ---------------------------------------------------------------------


class PhpSyntax(Syntax):
    # PHP 8 has builtin fmod() and fdiv() (floating point): the helpers get names of their own
    def fdiv(self, a, d):
        return f"floor_div({a}, {self.const(d)})"

    def fmod(self, a, d):
        return f"floor_mod({a}, {self.const(d)})"

    def var(self, name):
        return f"${name}"

    def elem(self, loop):
        return f"$a[${loop}]"

    def index(self, loop):
        return f"${loop}"

    def strlen(self):
        return "strlen($s)"

    def count(self, ch):
        return f"substr_count($s, '{ch}')"

    def foreach_open(self, loop):
        return f"for (${loop} = 0; ${loop} < $n; ${loop}++) {{"

    def repeat_open(self, loop, count):
        return f"for (${loop} = 0; ${loop} < {count}; ${loop}++) {{"

    def render(self, p):
        lines = [
            "<?php",
            "",
            "// floor modulo and division (PHP's % and intdiv truncate toward zero)",
            "function floor_mod(int $a, int $b): int { return (($a % $b) + $b) % $b; }",
            "function floor_div(int $a, int $b): int { return intdiv($a - floor_mod($a, $b), $b); }",
            "",
            "$tok = preg_split('/\\s+/', trim(stream_get_contents(STDIN)));",
            "$x = (int) $tok[0];",
            "$y = (int) $tok[1];",
            "$n = (int) $tok[2];",
            "$a = array_map('intval', array_slice($tok, 3, $n));",
            "$s = $tok[3 + $n];",
        ]
        lines += [f"${nm} = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 0)
        lines += [f'echo {self.expr(e)}, "\\n";' for e in p.outputs]
        if p.print_reversed:
            lines.append('echo strrev($s), "\\n";')
        return "\n".join(lines) + "\n"


class JsSyntax(Syntax):
    typed = False
    loop_decl = "let"

    def fdiv(self, a, d):
        return f"Math.floor({a} / {self.const(d)})"

    def fmod(self, a, d):
        return f"fmod({a}, {self.const(d)})"

    def minmax(self, fn, a, b):
        return f"Math.{fn}({a}, {b})"

    def abs(self, a):
        return f"Math.abs({a})"

    def strlen(self):
        return "s.length"

    def count(self, ch):
        return f'(s.split("{ch}").length - 1)'

    def render(self, p):
        num = ": number" if self.typed else ""
        lines = ["declare const require: any;", ""] if self.typed else ['"use strict";', ""]
        lines += [
            "// floor modulo (JavaScript's % truncates toward zero)",
            f"function fmod(a{num}, b{num}){num} {{",
            "  return ((a % b) + b) % b;",
            "}",
            "",
            'const tok = require("fs").readFileSync(0, "utf8").split(/\\s+/).filter((t) => t.length > 0);',
            "const x = Number(tok[0]);",
            "const y = Number(tok[1]);",
            "const n = Number(tok[2]);",
            "const a = tok.slice(3, 3 + n).map(Number);",
            "const s = tok[3 + n];",
        ]
        lines += [f"let {nm}{num} = {self.const(v)};" for nm, v in p.locals]
        lines += [ln.replace(IND, "  ") for ln in _body(self, p, 0)]
        # String() prints -0 as "0" (console.log would print "-0")
        lines += [f"console.log(String({self.expr(e)}));" for e in p.outputs]
        if p.print_reversed:
            lines.append('console.log(s.split("").reverse().join(""));')
        return "\n".join(lines) + "\n"


class TsSyntax(JsSyntax):
    typed = True


# --- Go, Rust --------------------------------------------------------------------------------------


class GoSyntax(Syntax):
    stmt_end = ""

    def minmax(self, fn, a, b):
        return f"{fn}64({a}, {b})"

    def abs(self, a):
        return f"abs64({a})"

    def strlen(self):
        return "int64(len(s))"

    def count(self, ch):
        return f'int64(strings.Count(s, "{ch}"))'

    def if_open(self, cond):
        return f"if {cond} {{"

    def foreach_open(self, loop):
        return f"for {loop} := int64(0); {loop} < n; {loop}++ {{"

    def repeat_open(self, loop, count):
        return f"for {loop} := int64(0); {loop} < {count}; {loop}++ {{"

    def render(self, p):
        imports = ['"bufio"', '"fmt"', '"os"']
        if chars_counted(p):
            imports.append('"strings"')
        body = "\n".join(_body(self, p, 1))
        lines = ["package main", "", "import (", *[f"\t{i}" for i in imports], ")", ""]
        lines += [
            "// floor modulo and division (Go's % and / truncate toward zero)",
            "func fmod(a, b int64) int64 { return ((a % b) + b) % b }",
            "func fdiv(a, b int64) int64 { return (a - fmod(a, b)) / b }",
            "",
            "func min64(a, b int64) int64 {",
            "\tif a < b {",
            "\t\treturn a",
            "\t}",
            "\treturn b",
            "}",
            "",
            "func max64(a, b int64) int64 {",
            "\tif a > b {",
            "\t\treturn a",
            "\t}",
            "\treturn b",
            "}",
            "",
            "func abs64(a int64) int64 {",
            "\tif a < 0 {",
            "\t\treturn -a",
            "\t}",
            "\treturn a",
            "}",
            "",
            "func main() {",
            "\tin := bufio.NewReader(os.Stdin)",
            "\tvar x, y, n int64",
            "\tfmt.Fscan(in, &x, &y, &n)",
            "\ta := make([]int64, n)",
            "\tfor i := range a {",
            "\t\tfmt.Fscan(in, &a[i])",
            "\t}",
            "\tvar s string",
            "\tfmt.Fscan(in, &s)",
            "\t_, _, _ = x, y, s",
        ]
        lines += [f"\tvar {nm} int64 = {self.const(v)}" for nm, v in p.locals]
        lines += [f"\t_ = {nm}" for nm, _ in p.locals]
        lines += [ln.replace(IND, "\t") for ln in body.split("\n") if ln]
        lines += [f"\tfmt.Println({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines += [
                "\tr := []rune(s)",
                "\tfor i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {",
                "\t\tr[i], r[j] = r[j], r[i]",
                "\t}",
                "\tfmt.Println(string(r))",
            ]
        lines.append("}")
        return "\n".join(lines) + "\n"


class RustSyntax(Syntax):
    def minmax(self, fn, a, b):
        return f"std::cmp::{fn}({a}, {b})"

    def abs(self, a):
        return f"i64::abs({a})"

    def index(self, loop):
        return f"({loop} as i64)"

    def strlen(self):
        return "(s.len() as i64)"

    def count(self, ch):
        return f"(s.matches('{ch}').count() as i64)"

    def if_open(self, cond):
        return f"if {cond} {{"

    def foreach_open(self, loop):
        return f"for {loop} in 0..a.len() {{"

    def repeat_open(self, loop, count):
        return f"for {loop} in 0..{count}usize {{"

    def render(self, p):
        lines = [
            "use std::io::Read;",
            "",
            "// floor modulo and division (Rust's % and / truncate toward zero)",
            "fn fmod(a: i64, b: i64) -> i64 {",
            "    ((a % b) + b) % b",
            "}",
            "",
            "fn fdiv(a: i64, b: i64) -> i64 {",
            "    (a - fmod(a, b)) / b",
            "}",
            "",
            "#[allow(unused_mut, unused_variables, unused_parens)]",
            "fn main() {",
            "    let mut input = String::new();",
            "    std::io::stdin().read_to_string(&mut input).unwrap();",
            "    let mut tok = input.split_whitespace();",
            "    let mut next = || -> i64 { tok.next().unwrap().parse().unwrap() };",
            "    let x = next();",
            "    let y = next();",
            "    let n = next();",
            "    let a: Vec<i64> = (0..n).map(|_| next()).collect();",
            "    let s: String = input.split_whitespace().nth(3 + n as usize).unwrap().to_string();",
        ]
        lines += [f"    let mut {nm}: i64 = {self.const(v)};" for nm, v in p.locals]
        lines += _body(self, p, 1)
        lines += [f'    println!("{{}}", {self.expr(e)});' for e in p.outputs]
        if p.print_reversed:
            lines.append('    println!("{}", s.chars().rev().collect::<String>());')
        lines.append("}")
        return "\n".join(lines) + "\n"


# --- Bash ----------------------------------------------------------------------------------------


class BashSyntax(Syntax):
    """Arithmetic inside `$(( ))`/`(( ))`; character counts are precomputed with `${s//[^c]/}`."""

    def fdiv(self, a, d):
        return f"(({a} - {self.fmod(a, d)}) / {self.const(d)})"

    def fmod(self, a, d):
        c = self.const(d)
        return f"((({a} % {c}) + {c}) % {c})"

    def minmax(self, fn, a, b):
        op = "<" if fn == "min" else ">"
        return f"({a} {op} {b} ? {a} : {b})"

    def abs(self, a):
        return f"({a} < 0 ? -{a} : {a})"

    def strlen(self):
        return "slen"

    def count(self, ch):
        return f"count_{ch}"

    def assign(self, var, value):
        return f"{var}=$(( {value} ))"

    def if_open(self, cond):
        return f"if (( {cond} )); then"

    def else_line(self):
        return "else"

    def block_close(self):
        return ""

    def foreach_open(self, loop):
        return f"for (( {loop} = 0; {loop} < n; {loop}++ )); do"

    def repeat_open(self, loop, count):
        return f"for (( {loop} = 0; {loop} < {count}; {loop}++ )); do"

    def stmts(self, stmts, depth):
        pad = IND * depth
        out: list[str] = []
        for st in stmts:
            if isinstance(st, Assign):
                out.append(pad + self.assign(st.var, self.expr(st.value)))
            elif isinstance(st, If):
                out.append(pad + self.if_open(self.cond(st.cond)))
                out += self.stmts(st.then, depth + 1)
                if st.orelse:
                    out.append(pad + "else")
                    out += self.stmts(st.orelse, depth + 1)
                out.append(pad + "fi")
            else:
                head = (
                    self.foreach_open(st.loop)
                    if isinstance(st, ForEach)
                    else self.repeat_open(st.loop, st.count)
                )
                out.append(pad + head)
                out += self.stmts(st.body, depth + 1)
                out.append(pad + "done")
        return out

    def render(self, p):
        lines = [
            "#!/bin/bash",
            "read -r x y",
            "read -r n",
            "read -r -a a",
            "read -r s",
            "slen=${#s}",
        ]
        for ch in chars_counted(p):
            lines += [f'only="${{s//[^{ch}]/}}"', f"count_{ch}=${{#only}}"]
        lines += [f"{nm}={v}" for nm, v in p.locals]
        lines += _body(self, p, 0)
        lines += [f"echo $(( {self.expr(e)} ))" for e in p.outputs]
        if p.print_reversed:
            lines += [
                'rev=""',
                "for (( i = ${#s} - 1; i >= 0; i-- )); do",
                '    rev+="${s:i:1}"',
                "done",
                'echo "$rev"',
            ]
        return "\n".join(lines) + "\n"


# --- Haskell ---------------------------------------------------------------------------------------


class HaskellSyntax(Syntax):
    """Pure and immutable: each assignment binds a fresh name (`acc_1`, `acc_2`, ...), an `if` binds
    the tuple of the variables its branches change, and a loop is a `foldl` over that tuple."""

    and_, or_, not_ = "&&", "||", "not "
    neq = "/="

    def __init__(self):
        self.names: dict[str, str] = {}
        self.version: dict[str, int] = {}

    def fresh(self, var: str) -> str:
        self.version[var] = self.version.get(var, 0) + 1
        self.names[var] = f"{var}_{self.version[var]}"
        return self.names[var]

    def var(self, name):
        return self.names.get(name, name)

    def elem(self, loop):
        return f"a{loop}"

    def fdiv(self, a, d):
        return f"({a} `div` {self.const(d)})"

    def fmod(self, a, d):
        return f"({a} `mod` {self.const(d)})"

    def minmax(self, fn, a, b):
        return f"({fn} {a} {b})"

    def abs(self, a):
        return f"(abs {a})"

    def strlen(self):
        return "(length s)"

    def count(self, ch):
        return f"(length (filter (== '{ch}') s))"

    def cond(self, c):
        if isinstance(c, Not):
            return f"(not ({self.cond(c.arg)}))"
        return f"({super().cond(c)})"

    def _tuple(self, names: list[str]) -> str:
        return names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"

    def bindings(self, stmts) -> list[str]:
        """`name = expr` bindings for a statement list, updating the current names."""
        out: list[str] = []
        for st in stmts:
            if isinstance(st, Assign):
                value = self.expr(st.value)
                out.append(f"{self.fresh(st.var)} = {value}")
                continue
            changed = assigned((st,))
            if not changed:
                continue
            before = dict(self.names)
            start = self._tuple([self.var(v) for v in changed])
            if isinstance(st, If):
                cond = self.cond(st.cond)
                then = self._scoped(st.then, changed, before)
                orelse = self._scoped(st.orelse, changed, before) if st.orelse else start
                rhs = f"if {cond} then {then} else {orelse}"
            else:
                params = [self.fresh(v) for v in changed]
                inner = self._scoped(st.body, changed, dict(self.names))
                if isinstance(st, ForEach):
                    lam = f"(\\{self._tuple(params)} ({st.loop}, a{st.loop}) -> {inner})"
                    rhs = f"foldl {lam} {start} (zip [0 ..] a)"
                else:
                    lam = f"(\\{self._tuple(params)} {st.loop} -> {inner})"
                    rhs = f"foldl {lam} {start} [0 .. {st.count - 1} :: Int]"
                self.names = before
            out.append(f"{self._tuple([self.fresh(v) for v in changed])} = {rhs}")
        return out

    def _scoped(self, stmts, changed: list[str], names: dict[str, str]) -> str:
        """`let { bindings } in (changed vars)` evaluated from `names`, leaving the names as they were."""
        self.names = dict(names)
        binds = self.bindings(stmts)
        result = self._tuple([self.var(v) for v in changed])
        self.names = names
        return f"(let {{ {'; '.join(binds)} }} in {result})" if binds else result

    def render(self, p):
        self.names, self.version = {}, {}
        lines = [
            "main :: IO ()",
            "main = do",
            "  tok <- fmap words getContents",
            "  let x = read (tok !! 0) :: Int",
            "      y = read (tok !! 1) :: Int",
            "      n = read (tok !! 2) :: Int",
            "      a = map read (take n (drop 3 tok)) :: [Int]",
            "      s = tok !! (3 + n)",
        ]
        for nm, v in p.locals:
            lines.append(f"  let {self.fresh(nm)} = {self.const(v)} :: Int")
        lines += [f"  let {b}" for b in self.bindings(p.body)]
        lines += [f"  print ({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines.append("  putStrLn (reverse s)")
        return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[], Syntax]] = {
    "python": PythonSyntax,
    "cpp": CppSyntax,
    "c": CSyntax,
    "java": JavaSyntax,
    "php": PhpSyntax,
    "bash": BashSyntax,
    "javascript": JsSyntax,
    "typescript": TsSyntax,
    "go": GoSyntax,
    "csharp": CSharpSyntax,
    "scala": ScalaSyntax,
    "haskell": HaskellSyntax,
    "rust": RustSyntax,
}


def render(program: Program, language: str) -> str:
    """The program in one language (a registry name)."""
    return RENDERERS[language]().render(program)


def render_all(program: Program) -> dict[str, str]:
    return {lang: render(program, lang) for lang in RENDERERS}
