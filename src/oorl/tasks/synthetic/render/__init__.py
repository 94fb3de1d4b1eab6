"""Idiomatic renderings of a grammar program in 13 languages.

All renderings read the input format of `program.py` from stdin, hold integers as 64-bit values
(`long long`, `long`, `int64`, `i64`, Haskell's `Int`; JavaScript's doubles are exact in the range
the generator allows), and use floor division / modulo: native in Python (`//`, `%`), Haskell
(`div`, `mod`), Java and Scala (`Math.floorDiv`, `Math.floorMod`); elsewhere through helpers built
on truncating `%`: `fmod(a, b) = ((a % b) + b) % b` (true for either sign of b) and
`fdiv(a, b) = (a - fmod(a, b)) / b` (an exact division, so truncation is floor).
"""

from __future__ import annotations

from collections.abc import Callable

from oorl.tasks.synthetic.program import Program
from oorl.tasks.synthetic.render.bash import BashSyntax
from oorl.tasks.synthetic.render.c_family import CppSyntax, CSharpSyntax, CSyntax, JavaSyntax, ScalaSyntax
from oorl.tasks.synthetic.render.go_rust import GoSyntax, RustSyntax
from oorl.tasks.synthetic.render.haskell import HaskellSyntax
from oorl.tasks.synthetic.render.python import PythonSyntax
from oorl.tasks.synthetic.render.scripting import JsSyntax, PhpSyntax, TsSyntax
from oorl.tasks.synthetic.render.syntax import Syntax

RENDERERS: dict[str, Callable[[], Syntax]] = {
    "python": PythonSyntax,
    "cpp": CppSyntax,
    "c": CSyntax,
    "java": JavaSyntax,
    "php": PhpSyntax,
    "bash": BashSyntax,
    "javascript": JsSyntax,
    "typescript": TsSyntax,
    "go": GoSyntax,
    "csharp": CSharpSyntax,
    "scala": ScalaSyntax,
    "haskell": HaskellSyntax,
    "rust": RustSyntax,
}


def render(program: Program, language: str) -> str:
    """The program in one language (a registry name)."""
    return RENDERERS[language]().render(program)


def render_all(program: Program) -> dict[str, str]:
    return {lang: render(program, lang) for lang in RENDERERS}
