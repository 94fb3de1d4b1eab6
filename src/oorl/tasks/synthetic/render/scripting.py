"""Renderings in pHP, JavaScript and TypeScript."""

from __future__ import annotations

from oorl.tasks.synthetic.render.syntax import IND, Syntax, body_lines


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
        lines += body_lines(self, p, 0)
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
        lines += [ln.replace(IND, "  ") for ln in body_lines(self, p, 0)]
        # String() prints -0 as "0" (console.log would print "-0")
        lines += [f"console.log(String({self.expr(e)}));" for e in p.outputs]
        if p.print_reversed:
            lines.append('console.log(s.split("").reverse().join(""));')
        return "\n".join(lines) + "\n"


class TsSyntax(JsSyntax):
    typed = True
