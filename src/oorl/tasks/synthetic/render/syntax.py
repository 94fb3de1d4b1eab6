"""The shared expression and statement syntax every renderer starts from."""

from __future__ import annotations

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
    Program,
    Repeat,
    StrLen,
    Var,
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

    def if_close(self) -> str:
        return self.block_close()

    def loop_close(self) -> str:
        return self.block_close()

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
                out.append(pad + self.if_close())
            elif isinstance(st, ForEach):
                out.append(pad + self.foreach_open(st.loop))
                out += self.stmts(st.body, depth + 1)
                out.append(pad + self.loop_close())
            elif isinstance(st, Repeat):
                out.append(pad + self.repeat_open(st.loop, st.count))
                out += self.stmts(st.body, depth + 1)
                out.append(pad + self.loop_close())
        return out

    def render(self, p: Program) -> str:
        raise NotImplementedError


def body_lines(syn: Syntax, p: Program, depth: int) -> list[str]:
    """The program body's statements, indented `depth` levels."""
    return syn.stmts(p.body, depth)
