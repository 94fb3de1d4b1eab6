"""Answer extraction (the paper's format rule) and assembly of the runnable target program.

Format rule (OORL, section "On-policy part"): the completion must contain exactly one fenced code
block. We also require that the block is closed (a block cut off by the token limit is a format
failure, not a program to run) and that its info tag, if any, names the target language (any of the
registry's `fence_tags` for it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from oorl.langs import get_language
from oorl.tasks.schema import Problem

# An opening fence: 3+ backticks or tildes, then an optional info string (its first word is the tag).
_OPEN = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Extraction:
    """The code of the single fenced block, or why the completion breaks the format."""

    code: str | None
    format_ok: bool
    reason: str = ""
    tag: str = ""


def fenced_blocks(text: str) -> tuple[list[tuple[str, str]], bool]:
    """(tag, body) of every fenced block (CommonMark-style fences), and whether one is left open."""
    blocks: list[tuple[str, str]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, tag = m["fence"], (m["info"].strip().split() or [""])[0]
        close = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        i += 1
        while i < len(lines) and not close.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            return blocks, True
        blocks.append((tag, "\n".join(body)))
        i += 1
    return blocks, False


def extract_code(completion: str, target_lang: str) -> Extraction:
    """The target program from a completion, under the format rule above."""
    lang = get_language(target_lang)
    blocks, unterminated = fenced_blocks(completion)
    if unterminated:
        return Extraction(None, False, "unterminated code block (cut off?)")
    if len(blocks) != 1:
        return Extraction(None, False, f"expected exactly one fenced code block, found {len(blocks)}")
    tag, code = blocks[0]
    if tag and tag.lower() not in lang.fence_tags:
        return Extraction(None, False, f"code block tagged {tag!r}, expected {lang.name}", tag)
    if not code.strip():
        return Extraction(None, False, "empty code block", tag)
    return Extraction(code + "\n", True, "", tag)


# --- assembly --------------------------------------------------------------------------------

_COMMENT_LINE = re.compile(r"^\s*(//|/\*|\*|\*/|--|\{-|-\})")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _python_chunks(prefix: str) -> list[str]:
    """Top-level statements of a Python prefix, minus the last `def` (the signature and docstring
    the model writes itself)."""
    try:
        tree = ast.parse(prefix.rstrip() + "\n    pass\n")
    except SyntaxError:
        return [ln for ln in prefix.split("\n") if re.match(r"^(import|from)\s", ln)]
    nodes = list(tree.body)
    if nodes and isinstance(nodes[-1], ast.FunctionDef | ast.AsyncFunctionDef):
        nodes = nodes[:-1]
    return [seg for n in nodes if (seg := ast.get_source_segment(prefix, n))]


def _brace_chunks(prefix: str) -> list[str]:
    """Top-level items of a brace-language prefix: imports, complete definitions; comments and an
    unclosed opener (the target signature, Java's `class Solution {`) are dropped. Parentheses
    group lines too, so Go's `import ( ... )` block is one item, not one item per package."""
    prefix = re.sub(r"/\*.*?\*/", "", prefix, flags=re.DOTALL)
    out, cur, depth = [], [], 0
    for line in prefix.split("\n"):
        if depth == 0 and (not line.strip() or _COMMENT_LINE.match(line)):
            continue
        cur.append(line)
        depth += line.count("{") + line.count("(") - line.count("}") - line.count(")")
        if depth <= 0:
            depth = 0
            text = "\n".join(cur).strip()
            if text:
                out.append(text)
            cur = []
    return out  # `cur` left open: the signature / wrapper the model writes itself


_GO_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_GO_PACKAGE = re.compile(r"^[ \t]*package[ \t]+\w+[ \t]*(?:\n|$)", re.MULTILINE)


def _go_fixups(problem: Problem, setup: str, code: str) -> str:
    """Go: one package clause, first (the harness setup's, when it has one); for HumanEval-X, the
    imports that CodeGeeX's harness would give (only packages the code uses, else Go refuses)."""
    if _GO_PACKAGE.search(setup):
        code = _GO_PACKAGE.sub("", code)
    else:
        clauses = _GO_PACKAGE.findall(code)
        if clauses:
            code = clauses[0].strip() + "\n" + _GO_PACKAGE.sub("", code)
    if problem.provenance.dataset == "humaneval-x":
        from oorl.tasks.humaneval_x import go_fix_imports

        # packages named in comments only (e.g. "a list of strings.") are not imports
        code = go_fix_imports(code, setup, scan=_GO_COMMENT.sub("", code))
    return code


def assemble_solution(problem: Problem, language: str, code: str) -> str:
    """The full solution to judge for an extracted `code` in `language` (before `Problem.program`
    puts the harness setup before it and the tests after it).

    stdio problems: the extracted code is the program. Harness problems (HumanEval-X, MultiPL-E):
    the model writes the complete function (or program) including the declaration; what the
    harness prompt has before the declaration (imports, headers, helper functions) is added when
    the code lacks it, so each piece is present exactly once.
    """
    lang = get_language(language)
    h = problem.harness.get(lang.name)
    if h is None:
        return code
    out = code
    if h.prompt.strip() and _norm(h.prompt) not in _norm(code):
        chunks = _python_chunks(h.prompt) if lang.name == "python" else _brace_chunks(h.prompt)
        have = _norm(code)
        missing = [c for c in chunks if _norm(c) not in have]
        out = "\n".join([*missing, code]) if missing else code
    return _go_fixups(problem, h.setup, out) if lang.name == "go" else out
