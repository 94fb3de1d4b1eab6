"""C# as dotnet accepts it, made into what mono's `mcs` (C# 7, no dotnet in Debian) compiles.

- Implicit usings: dotnet's defaults for a console program are imported in every file.
- Top-level statements (a program without a `Main`): the statements become the body of a generated
  `Main`, and the functions declared among them static methods beside it (mcs has no local
  functions); with `await` among them, an async method that `Main` waits for (mcs has no async Main).

Every edit keeps line numbers, so that compiler messages point at the program's own lines.
"""

from __future__ import annotations

import re

# dotnet's defaults for a console program, less System.Net.Http: Debian's mono-mcs has no
# System.Net.Http.dll (a program that needs it has to say `using System.Net.Http;` and fails anyway).
IMPLICIT_USINGS = (
    "System",
    "System.Collections.Generic",
    "System.IO",
    "System.Linq",
    "System.Threading",
    "System.Threading.Tasks",
)
_PRELUDE = "".join(f"using {name}; " for name in IMPLICIT_USINGS)
_HAS_MAIN = re.compile(r"\bstatic\s+(?:async\s+)?[\w.<>]+\s+Main\s*\(")
_USING = re.compile(r"^\s*(?:global\s+)?using\s+[\w.=\s]+;\s*(?://.*)?$")
_DECLARATION = re.compile(
    r"^(?:(?:public|internal|static|sealed|abstract|partial|readonly|unsafe)\s+)*"
    r"(?:class|struct|record|interface|enum|namespace|delegate)\b"
)
# a function among top-level statements: `int Add(int a, int b) {` or `static bool Ok(...) => ...;`
_FUNCTION = re.compile(
    r"^(?:static\s+)?(?:async\s+)?[\w.<>\[\],?]+(?:\s*<[^>]*>)?\s+\w+\s*\([^;=]*\)\s*(?:\{.*|=>.*)?$"
)
_KEYWORDS = {"return", "await", "new", "throw", "else", "if", "while", "for", "foreach", "var", "using"}


def prepare(code: str) -> str:
    """`code` with dotnet's implicit usings and, if it has no Main, its top-level statements wrapped."""
    if re.search(r"^\s*#\s*(?:define|undef)\b", code, re.MULTILINE):
        return code  # symbols must be defined before any other token: leave such a file as it is
    lines = code.split("\n")
    if not _HAS_MAIN.search(code):
        lines = _wrap_statements(lines)
    return _PRELUDE + "\n".join(lines)


def _wrap_statements(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and (not lines[start].strip() or _USING.match(lines[start])):
        start += 1
    end = next((i for i in range(start, len(lines)) if _DECLARATION.match(lines[i])), len(lines))
    body = lines[start:end]
    if not any(line.strip() and not line.lstrip().startswith("//") for line in body):
        return lines  # no statements: a library, or a program whose Main mcs will look for
    # the functions come after the statements (the usual layout; a statement after a function is
    # left where it is, and mcs will say so)
    first = next((i for i, line in enumerate(body) if _is_function(line)), len(body))
    statements, functions = body[:first], body[first:]
    is_async = any(re.search(r"\bawait\b", line) for line in statements)
    head = "static partial class OorlProgram { "
    if is_async:
        head += (
            "static void Main(string[] args) { OorlMain(args).GetAwaiter().GetResult(); } "
            "static async System.Threading.Tasks.Task OorlMain(string[] args) { "
        )
    else:
        head += "static void Main(string[] args) { "
    functions = [
        line if not _is_function(line) or line.startswith("static") else "static " + line
        for line in functions
    ]
    if statements:
        statements[0] = head + statements[0]
        statements[-1] += " }"
    else:  # only functions: Main does nothing
        functions[0] = head + "} " + functions[0]
    body = statements + functions
    body[-1] += " }"
    return lines[:start] + body + lines[end:]


def _is_function(line: str) -> bool:
    """A function declared at the top level: `int Add(int a, int b) {`, `static bool Ok() => ...`."""
    if line.startswith((" ", "\t")) or not _FUNCTION.match(line):
        return False
    words = line.split("(", 1)[0].split()
    return len(words) >= 2 and words[0] not in _KEYWORDS and "=" not in line.split("(", 1)[0]
