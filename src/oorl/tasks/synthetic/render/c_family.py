"""Renderings in c, C++, Java, C# and Scala: the brace languages with static types."""

from __future__ import annotations

from oorl.tasks.synthetic.render.syntax import IND, Syntax, body_lines


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
        lines += body_lines(self, p, 1)
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
        lines += body_lines(self, p, 1)
        lines += [f'    std::cout << {self.expr(e)} << "\\n";' for e in p.outputs]
        if p.print_reversed:
            lines.append('    std::cout << std::string(s.rbegin(), s.rend()) << "\\n";')
        lines += ["    return 0;", "}"]
        return "\n".join(lines).replace("fmod(", "floor_mod(").replace("fdiv(", "floor_div(") + "\n"


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
        lines += body_lines(self, p, 2)
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
        lines += body_lines(self, p, 2)
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
        lines += [ln.replace(IND, "  ") for ln in body_lines(self, p, 2)]
        lines += [f"    println({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines.append("    println(s.reverse)")
        lines += ["  }", "}"]
        return "\n".join(lines) + "\n"
