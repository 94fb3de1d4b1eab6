"""A small typed program grammar, a seeded generator and a reference interpreter.

Every program reads the same input format and prints integers (and, optionally, a string):

    x y                 two integers
    n                   the array length (n >= 1)
    a_0 ... a_{n-1}     n integers
    s                   one lowercase word

Semantics are fixed so that all 13 renderings agree:
- integers are 64-bit in every rendering, and a program is kept only if every intermediate value
  on every test input stays inside the signed 32-bit range (`SAFE`), so no language overflows or
  loses precision (JavaScript's doubles are exact below 2**53);
- `//` and `%` are floor division and floor modulo (Python's), by a non-zero constant, so there is
  never a division by zero; languages whose operators truncate get helpers;
- loops are bounded: over the array, or a constant number of times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SAFE = 2**31 - 1
INPUT_INTS = ("x", "y", "n")
LOCAL_NAMES = ("acc", "best", "tally", "cur", "res", "low", "high")
LOOP_NAMES = ("i", "j", "k")


# --- syntax ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: int


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Elem:
    """`a[loop]` inside a loop over the array."""

    loop: str


@dataclass(frozen=True)
class Index:
    """The loop counter itself."""

    loop: str


@dataclass(frozen=True)
class Bin:
    op: str  # + - *
    left: Expr
    right: Expr


@dataclass(frozen=True)
class FloorDiv:
    left: Expr
    divisor: int  # a non-zero constant


@dataclass(frozen=True)
class FloorMod:
    left: Expr
    divisor: int


@dataclass(frozen=True)
class MinMax:
    fn: str  # min | max
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Abs:
    arg: Expr


@dataclass(frozen=True)
class StrLen:
    pass


@dataclass(frozen=True)
class CountChar:
    char: str


Expr = Const | Var | Elem | Index | Bin | FloorDiv | FloorMod | MinMax | Abs | StrLen | CountChar


@dataclass(frozen=True)
class Cmp:
    op: str  # < <= == != > >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    left: Cond
    right: Cond


@dataclass(frozen=True)
class Not:
    arg: Cond


Cond = Cmp | BoolOp | Not


@dataclass(frozen=True)
class Assign:
    var: str
    value: Expr


@dataclass(frozen=True)
class If:
    cond: Cond
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()


@dataclass(frozen=True)
class ForEach:
    """for loop in 0 .. n-1, with `a[loop]` available."""

    loop: str
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Repeat:
    """for loop in 0 .. count-1."""

    loop: str
    count: int
    body: tuple[Stmt, ...]


Stmt = Assign | If | ForEach | Repeat


@dataclass(frozen=True)
class Program:
    locals: tuple[tuple[str, int], ...]  # (name, initial value)
    body: tuple[Stmt, ...]
    outputs: tuple[Expr, ...]
    print_reversed: bool = False


def assigned(stmts: tuple[Stmt, ...]) -> list[str]:
    """Local variables assigned anywhere in `stmts`, in first-assignment order."""
    out: list[str] = []

    def visit(ss: tuple[Stmt, ...]) -> None:
        for st in ss:
            if isinstance(st, Assign):
                if st.var not in out:
                    out.append(st.var)
            elif isinstance(st, If):
                visit(st.then)
                visit(st.orelse)
            else:
                visit(st.body)

    visit(stmts)
    return out


def chars_counted(program: Program) -> list[str]:
    """Characters that `CountChar` asks about (Bash precomputes their counts)."""
    found: list[str] = []

    def expr(e) -> None:
        if isinstance(e, CountChar) and e.char not in found:
            found.append(e.char)
        for child in (getattr(e, "left", None), getattr(e, "right", None), getattr(e, "arg", None)):
            if child is not None:
                expr(child)

    def stmts(ss) -> None:
        for st in ss:
            if isinstance(st, Assign):
                expr(st.value)
            elif isinstance(st, If):
                expr(st.cond)
                stmts(st.then)
                stmts(st.orelse)
            else:
                stmts(st.body)

    stmts(program.body)
    for e in program.outputs:
        expr(e)
    return found


# --- generation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenConfig:
    """Size and depth knobs of the generator."""

    n_locals: int = 3
    """local integer variables (at most len(LOCAL_NAMES))."""
    n_stmts: int = 4
    """top-level statements."""
    block_stmts: int = 2
    """most statements in a nested block."""
    max_nesting: int = 2
    """deepest nesting of if/loops."""
    expr_depth: int = 2
    """deepest expression tree."""
    n_outputs: int = 2
    """printed integers."""
    const_range: int = 9
    """constants are drawn from [-const_range, const_range]."""


@dataclass
class _Scope:
    ints: list[str]
    array_loops: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)


class Generator:
    """Random programs from the grammar above; the same seed gives the same programs."""

    def __init__(self, rng: random.Random, cfg: GenConfig = GenConfig()):
        if not 1 <= cfg.n_locals <= len(LOCAL_NAMES):
            raise ValueError(f"n_locals must be in 1..{len(LOCAL_NAMES)}, got {cfg.n_locals}")
        if not 0 <= cfg.max_nesting <= len(LOOP_NAMES):
            raise ValueError(f"max_nesting must be in 0..{len(LOOP_NAMES)}, got {cfg.max_nesting}")
        self.rng, self.cfg = rng, cfg

    def program(self) -> Program:
        r, cfg = self.rng, self.cfg
        names = LOCAL_NAMES[: cfg.n_locals]
        locs = tuple((nm, r.randint(-3, 3)) for nm in names)
        scope = _Scope(ints=[*INPUT_INTS, *names])
        body = tuple(self.stmt(scope, 0) for _ in range(cfg.n_stmts))
        outputs = tuple(Var(nm) for nm in r.sample(names, min(cfg.n_outputs, len(names))))
        if r.random() < 0.3:
            outputs += (self.expr(scope, 1),)
        return Program(locals=locs, body=body, outputs=outputs, print_reversed=r.random() < 0.3)

    def stmt(self, scope: _Scope, depth: int) -> Stmt:
        r, cfg = self.rng, self.cfg
        kinds = ["assign", "assign"]
        if depth < cfg.max_nesting:
            kinds += ["if", "foreach", "repeat"]
        kind = r.choice(kinds)
        locals_ = [nm for nm in scope.ints if nm in LOCAL_NAMES]
        if kind == "assign":
            return Assign(r.choice(locals_), self.expr(scope, cfg.expr_depth))
        if kind == "if":
            then = self.block(scope, depth + 1)
            orelse = self.block(scope, depth + 1) if r.random() < 0.6 else ()
            return If(self.cond(scope, 2), then, orelse)
        loop = LOOP_NAMES[len(scope.loops)]
        inner = _Scope(scope.ints, list(scope.array_loops), [*scope.loops, loop])
        if kind == "foreach":
            inner.array_loops.append(loop)
            return ForEach(loop, self.block(inner, depth + 1))
        return Repeat(loop, r.randint(1, 4), self.block(inner, depth + 1))

    def block(self, scope: _Scope, depth: int) -> tuple[Stmt, ...]:
        stmts = [self.stmt(scope, depth) for _ in range(self.rng.randint(1, self.cfg.block_stmts))]
        if not assigned(tuple(stmts)):  # every block changes something
            locals_ = [nm for nm in scope.ints if nm in LOCAL_NAMES]
            stmts.append(Assign(self.rng.choice(locals_), self.expr(scope, 1)))
        return tuple(stmts)

    def leaf(self, scope: _Scope) -> Expr:
        r = self.rng
        options: list[Expr] = [Const(r.randint(-self.cfg.const_range, self.cfg.const_range))]
        options += [Var(nm) for nm in scope.ints]
        options += [Elem(lp) for lp in scope.array_loops] * 2
        options += [Index(lp) for lp in scope.loops]
        options += [StrLen(), CountChar(r.choice("aeiost"))]
        return r.choice(options)

    def expr(self, scope: _Scope, depth: int) -> Expr:
        r = self.rng
        if depth <= 0 or r.random() < 0.3:
            return self.leaf(scope)
        kind = r.choice(["+", "-", "*", "+", "-", "div", "mod", "min", "max", "abs"])
        sub = lambda: self.expr(scope, depth - 1)  # noqa: E731
        if kind in "+-*":
            right = Const(r.randint(-4, 4)) if kind == "*" and r.random() < 0.5 else sub()
            return Bin(kind, sub(), right)
        if kind in ("div", "mod"):
            d = r.choice([-3, -2, 2, 3, 4, 5, 7])
            return FloorDiv(sub(), d) if kind == "div" else FloorMod(sub(), d)
        if kind in ("min", "max"):
            return MinMax(kind, sub(), sub())
        return Abs(sub())

    def cond(self, scope: _Scope, depth: int) -> Cond:
        r = self.rng
        if depth > 0 and r.random() < 0.3:
            if r.random() < 0.25:
                return Not(self.cond(scope, depth - 1))
            return BoolOp(r.choice(["and", "or"]), self.cond(scope, depth - 1), self.cond(scope, depth - 1))
        op = r.choice(["<", "<=", "==", "!=", ">", ">="])
        return Cmp(op, self.expr(scope, 1), self.expr(scope, 1))


def random_input(rng: random.Random, max_len: int = 8, value: int = 20) -> str:
    """One stdin in the program input format."""
    n = rng.randint(1, max_len)
    a = [rng.randint(-value, value) for _ in range(n)]
    s = "".join(rng.choice("abeiostx") for _ in range(rng.randint(1, 10)))
    x, y = rng.randint(-value, value), rng.randint(-value, value)
    return f"{x} {y}\n{n}\n{' '.join(map(str, a))}\n{s}\n"


# --- interpreter ---------------------------------------------------------------------------------


class OutOfRange(ArithmeticError):
    """An intermediate value left the safe 32-bit range."""


def _check(v: int) -> int:
    if not -SAFE <= v <= SAFE:
        raise OutOfRange(v)
    return v


def _parse(stdin: str) -> dict:
    toks = stdin.split()
    n = int(toks[2])
    return {
        "x": int(toks[0]),
        "y": int(toks[1]),
        "n": n,
        "a": [int(t) for t in toks[3 : 3 + n]],
        "s": toks[3 + n],
    }


def _eval(e: Expr, env: dict) -> int:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Var):
        return env[e.name]
    if isinstance(e, Elem):
        return env["a"][env[e.loop]]
    if isinstance(e, Index):
        return env[e.loop]
    if isinstance(e, Bin):
        a, b = _eval(e.left, env), _eval(e.right, env)
        return _check(a + b if e.op == "+" else a - b if e.op == "-" else a * b)
    if isinstance(e, FloorDiv):
        return _check(_eval(e.left, env) // e.divisor)
    if isinstance(e, FloorMod):
        return _check(_eval(e.left, env) % e.divisor)
    if isinstance(e, MinMax):
        a, b = _eval(e.left, env), _eval(e.right, env)
        return min(a, b) if e.fn == "min" else max(a, b)
    if isinstance(e, Abs):
        return _check(abs(_eval(e.arg, env)))
    if isinstance(e, StrLen):
        return len(env["s"])
    if isinstance(e, CountChar):
        return env["s"].count(e.char)
    raise TypeError(e)


def _cond(c: Cond, env: dict) -> bool:
    if isinstance(c, Cmp):
        a, b = _eval(c.left, env), _eval(c.right, env)
        return {"<": a < b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, ">=": a >= b}[c.op]
    if isinstance(c, BoolOp):
        # both sides are evaluated in the interpreter so a range violation anywhere rejects the program
        left, right = _cond(c.left, env), _cond(c.right, env)
        return (left and right) if c.op == "and" else (left or right)
    return not _cond(c.arg, env)


def _run(stmts: tuple[Stmt, ...], env: dict) -> None:
    for st in stmts:
        if isinstance(st, Assign):
            env[st.var] = _check(_eval(st.value, env))
        elif isinstance(st, If):
            _run(st.then if _cond(st.cond, env) else st.orelse, env)
        elif isinstance(st, ForEach):
            for i in range(env["n"]):
                env[st.loop] = i
                _run(st.body, env)
        else:
            for i in range(st.count):
                env[st.loop] = i
                _run(st.body, env)


def interpret(program: Program, stdin: str) -> str:
    """The program's stdout on `stdin`; raises OutOfRange if any intermediate leaves SAFE."""
    env = _parse(stdin)
    env.update(dict(program.locals))
    _run(program.body, env)
    lines = [str(_check(_eval(e, env))) for e in program.outputs]
    if program.print_reversed:
        lines.append(env["s"][::-1])
    return "".join(line + "\n" for line in lines)
