"""Renderings in haskell."""

from __future__ import annotations

from oorl.tasks.synthetic.program import (
    Assign,
    ForEach,
    If,
    Not,
    assigned,
)
from oorl.tasks.synthetic.render.syntax import Syntax


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
