"""Renderings in python."""

from __future__ import annotations

from oorl.tasks.synthetic.render.syntax import Syntax, body_lines


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
        lines += body_lines(self, p, 1)
        lines += [f"    print({self.expr(e)})" for e in p.outputs]
        if p.print_reversed:
            lines.append("    print(s[::-1])")
        lines += ["", "", 'if __name__ == "__main__":', "    main()"]
        return "\n".join(lines) + "\n"
