"""One-site semantic mutations of a winner's IR text: candidate losers.

Each operator maps one instruction line to zero or more replacement lines ('' deletes the line).
Mutation edits the *text* clang-14 printed (never a re-print by another LLVM), and every mutant is
then parsed and verified in process (oorl.ir.verify) before it may be executed.

Validity and inequivalence rates measured on 422 mutants (docs/IR_PIPELINE.md):
  arith_swap, icmp_negate, br_swap, select_swap, operand_swap   100% valid, 100% inequivalent
  store_drop                                                    100% valid,  98% inequivalent
  const_perturb                                                 100% valid,  90% inequivalent
  icmp_boundary                                                 100% valid,  51% inequivalent
  naive phi incoming swap                                         0% valid (dominance errors)
so no mutant is a loser without a witness (oorl.ir.execute). `phi_swap` here swaps only incoming
values that are constants or globals: they dominate every edge, so the swap always verifies.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from oorl.ir.schema import Site

_NAME = r"%[-\w.$]+"
_OPND = rf"(?:{_NAME}|@[-\w.$]+|-?\d+|true|false|null|undef|poison|-?\d+\.\d+(?:e[-+]?\d+)?|0x[0-9A-Fa-f]+)"
_TYPE = r"(?:i\d+|half|float|double|x86_fp80|fp128)\**"

_POISON_FLAGS = {"nsw", "nuw"}
_EXACT = {"exact"}
_FMF = {"fast", "nnan", "ninf", "nsz", "arcp", "contract", "afn", "reassoc"}
# which flags each opcode accepts (LangRef: binary and bitwise operations)
_FLAGS_OK = {
    **{op: _POISON_FLAGS for op in ("add", "sub", "mul", "shl")},
    **{op: _EXACT for op in ("sdiv", "udiv", "lshr", "ashr")},
    **{op: set() for op in ("srem", "urem", "and", "or", "xor")},
    **{op: _FMF for op in ("fadd", "fsub", "fmul", "fdiv", "frem")},
}
ARITH_SWAP = {
    "add": "sub", "sub": "add", "mul": "add", "sdiv": "srem", "srem": "sdiv", "udiv": "urem", "urem": "udiv",
    "and": "or", "or": "and", "xor": "and", "shl": "lshr", "lshr": "shl", "ashr": "shl",
    "fadd": "fsub", "fsub": "fadd", "fmul": "fdiv", "fdiv": "fmul", "frem": "fdiv",
}  # fmt: skip
NON_COMMUTATIVE = {"sub", "sdiv", "udiv", "srem", "urem", "shl", "lshr", "ashr", "fsub", "fdiv", "frem"}
ICMP_NEGATE = {"eq": "ne", "ne": "eq", "slt": "sge", "sge": "slt", "sgt": "sle", "sle": "sgt",
               "ult": "uge", "uge": "ult", "ugt": "ule", "ule": "ugt"}  # fmt: skip
ICMP_BOUNDARY = {"slt": "sle", "sle": "slt", "sgt": "sge", "sge": "sgt",
                 "ult": "ule", "ule": "ult", "ugt": "uge", "uge": "ugt"}  # fmt: skip

_BINOP = re.compile(
    rf"^(?P<lhs>\s+{_NAME} = )(?P<op>{'|'.join(ARITH_SWAP)})(?P<flags>(?:\s+(?:nsw|nuw|exact|{'|'.join(_FMF)}))*)"
    rf"\s+(?P<type>{_TYPE})\s+(?P<a>{_OPND}), (?P<b>{_OPND})$"
)
_ICMP = re.compile(
    rf"^(?P<lhs>\s+{_NAME} = icmp )(?P<pred>\w+)\s+(?P<type>{_TYPE}|ptr)\s+(?P<a>{_OPND}), (?P<b>{_OPND})$"
)
_BR = re.compile(rf"^(?P<head>\s+br i1 {_OPND}), label (?P<t>{_NAME}), label (?P<f>{_NAME})$")
_SELECT = re.compile(
    rf"^(?P<head>\s+{_NAME} = select i1 {_OPND}), (?P<ta>{_TYPE}) (?P<a>{_OPND}), (?P<tb>{_TYPE}) (?P<b>{_OPND})$"
)
_STORE = re.compile(r"^\s+store (?:volatile )?")
_TYPED_INT = re.compile(r"(?P<pre>(?:store|ret|select i1 [^,]+,|, ) ?i(?P<bits>\d+) )(?P<c>-?\d+)\b")
_PHI = re.compile(rf"^(?P<head>\s+{_NAME} = phi (?P<type>{_TYPE}) )(?P<rest>\[.*\])$")
_PHI_IN = re.compile(rf"\[ (?P<v>{_OPND}), (?P<bb>{_NAME}) \]")
_CONSTANT = re.compile(r"^(?:@[-\w.$]+|-?\d+|true|false|null|undef|-?\d+\.\d+(?:e[-+]?\d+)?|0x[0-9A-Fa-f]+)$")


def _int_literal(s: str) -> bool:
    return re.fullmatch(r"-?\d+", s) is not None


def _bump(c: str, bits: int) -> str:
    """c + 1, or c - 1 where +1 would leave the signed range of iN."""
    v = int(c)
    return str(v - 1 if v + 1 > (1 << (bits - 1)) - 1 else v + 1)


def arith_swap(line: str) -> list[str]:
    m = _BINOP.match(line)
    if not m:
        return []
    new = ARITH_SWAP[m["op"]]
    flags = "".join(f" {f}" for f in m["flags"].split() if f in _FLAGS_OK[new])
    return [f"{m['lhs']}{new}{flags} {m['type']} {m['a']}, {m['b']}"]


def operand_swap(line: str) -> list[str]:
    m = _BINOP.match(line)
    if m and m["op"] in NON_COMMUTATIVE and m["a"] != m["b"]:
        return [f"{m['lhs']}{m['op']}{m['flags']} {m['type']} {m['b']}, {m['a']}"]
    m = _ICMP.match(line)
    if m and m["pred"] not in ("eq", "ne") and m["a"] != m["b"]:
        return [f"{m['lhs']}{m['pred']} {m['type']} {m['b']}, {m['a']}"]
    return []


def icmp_negate(line: str) -> list[str]:
    m = _ICMP.match(line)
    if not m or m["pred"] not in ICMP_NEGATE:
        return []
    return [f"{m['lhs']}{ICMP_NEGATE[m['pred']]} {m['type']} {m['a']}, {m['b']}"]


def icmp_boundary(line: str) -> list[str]:
    m = _ICMP.match(line)
    if not m or m["pred"] not in ICMP_BOUNDARY:
        return []
    return [f"{m['lhs']}{ICMP_BOUNDARY[m['pred']]} {m['type']} {m['a']}, {m['b']}"]


def br_swap(line: str) -> list[str]:
    m = _BR.match(line)
    if not m or m["t"] == m["f"]:
        return []
    return [f"{m['head']}, label {m['f']}, label {m['t']}"]


def select_swap(line: str) -> list[str]:
    m = _SELECT.match(line)
    if not m or m["a"] == m["b"] or m["ta"] != m["tb"]:
        return []
    return [f"{m['head']}, {m['tb']} {m['b']}, {m['ta']} {m['a']}"]


def store_drop(line: str) -> list[str]:
    return [""] if _STORE.match(line) else []


def const_perturb(line: str) -> list[str]:
    """+1 on one integer constant operand; never alignments, array sizes, alloca or GEP indices."""
    if " = alloca " in line or "getelementptr" in line or "@llvm." in line:
        return []
    out = []
    m = _BINOP.match(line) or _ICMP.match(line)
    if m:
        t = m["type"]
        if t.startswith("i") and not t.endswith("*") and t != "i1":
            bits = int(t[1:])
            if _int_literal(m["a"]):
                out.append(line[: m.start("a")] + _bump(m["a"], bits) + line[m.end("a") :])
            if _int_literal(m["b"]):
                out.append(line[: m.start("b")] + _bump(m["b"], bits) + line[m.end("b") :])
        return out
    m = _PHI.match(line)
    if m:
        t = m["type"]
        if t.startswith("i") and not t.endswith("*") and t != "i1":
            for inc in _PHI_IN.finditer(line):
                if _int_literal(inc["v"]):
                    out.append(line[: inc.start("v")] + _bump(inc["v"], int(t[1:])) + line[inc.end("v") :])
        return out
    if (
        line.lstrip().startswith(("store ", "ret ", "call ", "tail call "))
        or " = select " in line
        or " = call " in line
    ):
        for c in _TYPED_INT.finditer(line):
            if c["bits"] != "1":
                out.append(line[: c.start("c")] + _bump(c["c"], int(c["bits"])) + line[c.end("c") :])
    return out


def phi_swap(line: str) -> list[str]:
    """Swap the values of two incoming edges when both are constants/globals (they dominate every edge)."""
    m = _PHI.match(line)
    if not m:
        return []
    incs = list(_PHI_IN.finditer(line))
    out = []
    for i in range(len(incs)):
        for j in range(i + 1, len(incs)):
            a, b = incs[i], incs[j]
            if a["v"] != b["v"] and _CONSTANT.match(a["v"]) and _CONSTANT.match(b["v"]):
                out.append(
                    line[: a.start("v")]
                    + b["v"]
                    + line[a.end("v") : b.start("v")]
                    + a["v"]
                    + line[b.end("v") :]
                )
    return out


OPERATORS: dict[str, Callable[[str], list[str]]] = {
    "arith_swap": arith_swap,
    "icmp_negate": icmp_negate,
    "icmp_boundary": icmp_boundary,
    "br_swap": br_swap,
    "select_swap": select_swap,
    "operand_swap": operand_swap,
    "const_perturb": const_perturb,
    "store_drop": store_drop,
    "phi_swap": phi_swap,
}


@dataclass(frozen=True)
class Mutant:
    ir: str
    operator: str
    site: Site


_DEFINE = re.compile(r"^define\b.*?@([-\w.$]+|\"[^\"]*\")\(")


def mutants(ir: str, operators: list[str] | None = None) -> Iterator[Mutant]:
    """Every one-site mutant of `ir` by each operator, in line order (instructions inside functions only)."""
    ops = {name: OPERATORS[name] for name in (operators or OPERATORS)}
    lines = ir.split("\n")
    function = None
    for i, line in enumerate(lines):
        if line.startswith("define "):
            m = _DEFINE.match(line)
            function = m.group(1) if m else None
            continue
        if line.startswith("}"):
            function = None
            continue
        if function is None or not line.startswith("  "):
            continue
        for name, op in ops.items():
            for new in op(line):
                text = "\n".join([*lines[:i], *([new] if new else []), *lines[i + 1 :]])
                yield Mutant(
                    text, name, Site(function=function, line=i, before=line.strip(), after=new.strip())
                )


def interleave_by_operator(items: list[Mutant], seed: int) -> list[Mutant]:
    """Shuffle within each operator, then take one of each operator in turn: losers come out diverse."""
    rng = random.Random(seed)
    by_op: dict[str, list[Mutant]] = {}
    for m in items:
        by_op.setdefault(m.operator, []).append(m)
    queues = [rng.sample(v, len(v)) for _, v in sorted(by_op.items())]
    rng.shuffle(queues)
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop())
    return out
