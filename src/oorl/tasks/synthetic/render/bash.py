"""Renderings in bash."""

from __future__ import annotations

from oorl.tasks.synthetic.program import chars_counted
from oorl.tasks.synthetic.render.syntax import Syntax, body_lines


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

    def if_close(self):
        return "fi"

    def loop_close(self):
        return "done"

    def foreach_open(self, loop):
        return f"for (( {loop} = 0; {loop} < n; {loop}++ )); do"

    def repeat_open(self, loop, count):
        return f"for (( {loop} = 0; {loop} < {count}; {loop}++ )); do"

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
        lines += body_lines(self, p, 0)
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
