"""Renderings in go and Rust."""

from __future__ import annotations

from oorl.tasks.synthetic.program import chars_counted
from oorl.tasks.synthetic.render.syntax import IND, Syntax, body_lines


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
        body = "\n".join(body_lines(self, p, 1))
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
        lines += body_lines(self, p, 1)
        lines += [f'    println!("{{}}", {self.expr(e)});' for e in p.outputs]
        if p.print_reversed:
            lines.append('    println!("{}", s.chars().rev().collect::<String>());')
        lines.append("}")
        return "\n".join(lines) + "\n"
