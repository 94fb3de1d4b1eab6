"""Function-level sources: find the callable functions of a C file and generate a driver + inputs.

A function-level source has no `main`. Each non-static function whose return type and parameters
are all scalars (integers, chars, floating point) becomes callable: the generated driver reads one
line `NAME ARG1 ARG2 ...` from stdin, calls NAME and prints the result on one line (integers with
%lld / %llu, floating point with %.17g so no digit is lost). Inputs mix edge cases with seeded random
values in small ranges, so well-defined sources stay away from signed overflow (whose undefined
behaviour could make optimisation levels disagree).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_SIGNED = {
    "int",
    "long",
    "long int",
    "long long",
    "long long int",
    "short",
    "short int",
    "signed",
    "signed int",
}
_UNSIGNED = {"unsigned", "unsigned int", "unsigned long", "unsigned long int", "unsigned long long",
             "unsigned long long int", "unsigned short", "size_t", "_Bool", "bool"}  # fmt: skip
_CHAR = {"char", "signed char", "unsigned char"}
_FLOAT = {"double", "float"}
SCALAR_TYPES = _SIGNED | _UNSIGNED | _CHAR | _FLOAT

_DEF = re.compile(
    r"^(?P<ret>(?:static\s+|inline\s+|const\s+|extern\s+)*[A-Za-z_][\w ]*?)\s*\b(?P<name>[A-Za-z_]\w*)\s*"
    r"\((?P<params>[^()]*)\)\s*\{",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Param:
    type: str
    name: str


@dataclass(frozen=True)
class Function:
    name: str
    ret: str
    params: tuple[Param, ...]

    def prototype(self) -> str:
        args = ", ".join(f"{p.type} {p.name}" for p in self.params) or "void"
        return f"{self.ret} {self.name}({args});"


def _norm_type(t: str) -> str:
    return " ".join(t.replace("const", " ").split())


def has_main(source: str) -> bool:
    return re.search(r"\bint\s+main\s*\(", source) is not None


def callable_functions(source: str) -> list[Function]:
    """The non-static functions of `source` with a scalar return type and only scalar parameters."""
    found = []
    for m in _DEF.finditer(source):
        words = m["ret"].split()
        if "static" in words or m["name"] in ("main", "if", "for", "while", "switch"):
            continue
        ret = _norm_type(" ".join(w for w in words if w not in ("inline", "extern")))
        if ret not in SCALAR_TYPES:
            continue
        params: list[Param] = []
        raw = m["params"].strip()
        ok = True
        if raw and raw != "void":
            for i, p in enumerate(raw.split(",")):
                pm = re.fullmatch(r"\s*([A-Za-z_][\w ]*?)\s+([A-Za-z_]\w*)\s*", p)
                ptype = _norm_type(pm.group(1)) if pm else ""
                if ptype not in SCALAR_TYPES:
                    ok = False
                    break
                params.append(Param(ptype, pm.group(2) if pm else f"a{i}"))
        if ok:
            found.append(Function(m["name"], ret, tuple(params)))
    return found


def _c_read(p: Param, i: int) -> tuple[str, str, str]:
    """(declaration, scanf format, call argument) for parameter i."""
    if p.type in _FLOAT:
        return f"double a{i};", "%lf", f"({p.type})a{i}"
    if p.type in _UNSIGNED:
        return f"unsigned long long a{i};", "%llu", f"({p.type})a{i}"
    return f"long long a{i};", "%lld", f"({p.type})a{i}"


def _c_print(f: Function) -> str:
    call = f"{f.name}({', '.join(_c_read(p, i)[2] for i, p in enumerate(f.params))})"
    if f.ret in _FLOAT:
        return f'printf("%.17g\\n", (double){call});'
    if f.ret in _UNSIGNED:
        return f'printf("%llu\\n", (unsigned long long){call});'
    return f'printf("%lld\\n", (long long){call});'


def make_driver(functions: list[Function]) -> str:
    """A C `main` that reads `NAME ARGS...` from stdin and prints NAME(ARGS) (exit 2: bad input line)."""
    lines = ["#include <stdio.h>", "#include <string.h>", "#include <stdbool.h>", "#include <stddef.h>"]
    lines += [f.prototype() for f in functions]
    lines += ["int main(void) {", "  char name[128];", '  if (scanf("%127s", name) != 1) return 2;']
    for f in functions:
        reads = [_c_read(p, i) for i, p in enumerate(f.params)]
        decls = " ".join(r[0] for r in reads)
        lines.append(f'  if (strcmp(name, "{f.name}") == 0) {{')
        if reads:
            fmt = " ".join(r[1] for r in reads)
            addrs = ", ".join(f"&a{i}" for i in range(len(reads)))
            lines.append(f'    {decls} if (scanf("{fmt}", {addrs}) != {len(reads)}) return 2;')
        lines.append(f"    {_c_print(f)}")
        lines.append("    return 0;")
        lines.append("  }")
    lines += ["  return 3;", "}", ""]
    return "\n".join(lines)


def _values(t: str, rng: random.Random, edge: bool) -> str:
    if t in _FLOAT:
        return (
            repr(rng.choice([0.0, 1.0, -1.0, 0.5, 2.5, -3.25, 10.0]))
            if edge
            else repr(round(rng.uniform(-100, 100), 3))
        )
    if t in ("_Bool", "bool"):
        return str(rng.randint(0, 1))
    if t in _CHAR:
        return str(rng.choice([0, 32, 48, 57, 65, 90, 97, 122]) if edge else rng.randint(32, 126))
    if t in _UNSIGNED:
        return str(rng.choice([0, 1, 2, 3, 7, 10, 64]) if edge else rng.randint(0, 200))
    return str(rng.choice([0, 1, -1, 2, -2, 3, 7, -7, 10]) if edge else rng.randint(-100, 100))


def make_inputs(functions: list[Function], n: int, seed: int) -> list[list[str]]:
    """n argument lists per function ([name, arg, ...]): the first third edge cases, the rest random."""
    rng = random.Random(seed)
    out = []
    for f in functions:
        seen: set[tuple[str, ...]] = set()
        for k in range(n * 4):
            args = tuple(_values(p.type, rng, edge=k < n // 3) for p in f.params)
            if args in seen:
                continue
            seen.add(args)
            out.append([f.name, *args])
            if len(seen) == n:
                break
    return out


def args_stdin(args: list[str]) -> str:
    """The driver's stdin for one call."""
    return " ".join(args) + "\n"
