"""The language registry: one declarative entry per language the sandbox can judge.

Each entry says how a program becomes a file, how it is compiled and run, which environment it
needs, how a failed test harness shows, and how a harness program proves it ran to its end. Choices
are fast, faithful and all from Debian's packages (compile and run CPU times measured on Debian 12:
python 0.02 s run; g++ 0.23 s and javac 0.7 s compile; Debian's tsc 1.7 s, scalac 3 s) and follow
MultiPL-E's evaluators (`evaluation/src/eval_<lang>.py`).

Argv templates are formatted with:
  {src}   the source file name (relative to the box directory /box)
  {stem}  the source file name without its extension (Java's public class, Scala's object)
  {mem}   the run's memory limit in MiB (for runtimes that size their heap from a flag)
Paths inside the sandbox: the compile step runs in /box (writable); the run step sees /box
read-only and runs in a private, size-capped, writable /tmp.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from oorl import csharp_source

BOX = "/box"

# Go finds Debian's vendored libraries (testify for HumanEval-X) in GOPATH mode, offline.
# cgo stays enabled: with CGO_ENABLED=0 the precompiled standard library is stale and every build
# recompiles net, crypto, ... (7 s CPU for a testify test instead of 0.1 s with a warm cache).
_GO_ENV = {
    "GOCACHE": "/tmp/gocache",
    "GOPATH": "/usr/share/gocode",
    "GO111MODULE": "off",
    "GOPROXY": "off",
    "GOTELEMETRY": "off",
}
# The JVM reserves address space far beyond its heap; these flags keep it small and fast to start.
_JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=64m",
    "-Xshare:auto",
)
# `go test` needs a *_test.go file; the same sources are compiled into a test binary
_GO_TEST = r"func\s+Test\w*\s*\(\s*\w+\s+\*testing\.T\s*\)"
_JAVATUPLES = "/usr/share/java/javatuples.jar"  # MultiPL-E's Java prompts import org.javatuples
_SCALA_LIB = "/usr/share/scala/lib/scala-library.jar"


def _named_by(pattern: str, default: str, ext: str) -> Callable[[str], str]:
    """A file namer: the first capture of `pattern` in the source (e.g. Java's public class), else `default`."""
    rx = re.compile(pattern, re.MULTILINE)

    def name(code: str) -> str:
        m = rx.search(code)
        return f"{m.group(1) if m else default}.{ext}"

    return name


def _java_name(code: str) -> str:
    """Java's public class names the file; without one, the class that holds `main` runs."""
    m = re.search(r"^\s*public\s+(?:final\s+|abstract\s+)*class\s+(\w+)", code, re.MULTILINE)
    if m is None:
        m = re.search(r"class\s+(\w+)[^{]*\{(?:(?!\bclass\b).)*?static\s+void\s+main\s*\(", code, re.DOTALL)
    return f"{m.group(1) if m else 'Main'}.java"


_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)  # Go's and Rust's comments (not nested)


@dataclass(frozen=True)
class Sentinel:
    """How a harness program (test code after the solution, no stdio tests) shows that it ran to its
    end: code added around it prints a line holding a secret after the program's last statement, so
    that a program which exits early (exit(0) from an assertion handler, an atexit hook) is not
    mistaken for one whose tests passed. `{nonce}` in the code is the secret; `{stem}` the program's
    main class, for languages that start one."""

    epilogue: str  # appended to the program
    prelude: str = ""  # put before the program, on its first line (no newline: line numbers stay)
    compile_flags: tuple[str, ...] = ()  # inserted before the source file in the compile argv
    run_flags: tuple[str, ...] = ()  # appended to the run argv
    main: str | None = None  # the class to run instead of {stem} (a wrapper the epilogue defines)
    # (pattern, replacement) edits of the program, such as renaming its entry point for the
    # epilogue's to call: the sentinel is left out unless each pattern matches exactly once
    renames: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Language:
    """How one language is compiled, run and judged inside the sandbox."""

    name: str
    aliases: tuple[str, ...]
    fence_tags: tuple[str, ...]
    source_name: Callable[[str], str]
    run: tuple[str, ...]
    compile: tuple[str, ...] | None = None
    # A source that matches `test_pattern` is a test-runner program (Go's `func TestX`, Rust's
    # `#[test]`): it is compiled with `test_compile` and run with `test_run` instead.
    test_pattern: str | None = None
    test_compile: tuple[str, ...] | None = None
    test_run: tuple[str, ...] | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Applied to every program before it is written (C#: dotnet's implicit usings and top-level
    # statements for mcs); it must keep line numbers.
    prepare: Callable[[str], str] | None = None
    # Files written beside the source for the compile step, (name, text), for a given program
    # (TypeScript: Node's types, less what the program declares itself).
    support: Callable[[str], tuple[tuple[str, str], ...]] | None = None
    # Failure markers, matched in stderr and only for harness programs (never for stdio tests):
    # `assertion_markers` make a non-zero exit a wrong answer rather than a crash; `failure_markers`
    # are harness failures that do not change the exit code (mono's Debug.Assert prints and exits 0,
    # node's console.assert only writes to stderr).
    assertion_markers: tuple[str, ...] = ()
    failure_markers: tuple[str, ...] = ()
    # A runtime that hits its own heap limit says so (in stderr) instead of being killed by the cgroup.
    memory_markers: tuple[str, ...] = ()
    # The harness sentinel for programs and for test-runner sources (Go's `go test`, Rust's --test),
    # and the runner's own summary: `test_passed` captures the number of tests passed, which must be
    # the number of `test_pattern` matches (plus the sentinel's own test); `test_failed` marks a
    # failed run in stdout, where the runner reports it.
    sentinel: Sentinel | None = None
    test_sentinel: Sentinel | None = None
    test_passed: str | None = None
    test_failed: str | None = None
    # Without a memory cgroup the sandbox falls back to RLIMIT_AS = limit + headroom. Runtimes that
    # reserve address space up front need headroom; None means RLIMIT_AS is not safe at any size and
    # the runtime's own heap flag ({mem} in `run`) is the only bound.
    as_headroom_mb: int | None = 64
    # Debian packages that provide the toolchain, and the binaries to probe for `oorl doctor`.
    packages: tuple[str, ...] = ()
    version_argv: tuple[str, ...] = ()

    def file_name(self, code: str) -> str:
        return self.source_name(code)

    def support_files(self, code: str) -> tuple[tuple[str, str], ...]:
        return self.support(code) if self.support is not None else ()

    def source(self, code: str) -> str:
        """The program as written to the box: `code`, prepared where the language needs it."""
        return self.prepare(code) if self.prepare is not None else code

    def is_test_source(self, code: str) -> bool:
        return self.test_pattern is not None and re.search(self.test_pattern, code) is not None

    def sentinel_for(self, code: str) -> Sentinel | None:
        """The harness sentinel that fits `code`, if one does."""
        sentinel = self.test_sentinel if self.is_test_source(code) else self.sentinel
        if sentinel is not None and any(
            len(re.findall(pattern, code, re.MULTILINE)) != 1 for pattern, _ in sentinel.renames
        ):
            return None
        return sentinel

    def sentinel_unfit(self, code: str) -> bool:
        """True when this language checks harness runs with a sentinel that cannot be placed in
        `code` (its entry point is named more than once, comments and strings included). Such a
        program would run unchecked, so a harness run refuses it rather than trusting its exit code."""
        sentinel = self.test_sentinel if self.is_test_source(code) else self.sentinel
        return sentinel is not None and self.sentinel_for(code) is None

    def expected_tests(self, code: str) -> int:
        """How many tests a test-runner source holds, outside comments (the runner must report them
        all passed; HumanEval-X's Rust/32 comments its test out)."""
        if self.test_pattern is None:
            return 0
        return len(re.findall(self.test_pattern, _C_COMMENT.sub("", code)))

    def tests_passed(self, stdout: str) -> int:
        """How many tests a test runner's output reports passed (`test_passed`: a count it captures,
        else one match per test)."""
        if self.test_passed is None:
            return 0
        found = re.findall(self.test_passed, stdout)
        return sum(int(n) for n in found) if re.compile(self.test_passed).groups else len(found)

    def compile_argv(self, code: str, sentinel: Sentinel | None = None) -> tuple[str, ...] | None:
        argv = self.test_compile if self.is_test_source(code) and self.test_compile else self.compile
        if argv and sentinel is not None and sentinel.compile_flags:
            at = argv.index("{src}")
            argv = (*argv[:at], *sentinel.compile_flags, *argv[at:])
        return self._format(argv, code) if argv else None

    def run_argv(self, code: str, memory_mb: int, sentinel: Sentinel | None = None) -> tuple[str, ...]:
        argv = self.test_run if self.is_test_source(code) and self.test_run else self.run
        if sentinel is not None:
            argv = (*argv, *sentinel.run_flags)
        return self._format(argv, code, memory_mb, sentinel.main if sentinel else None)

    def _format(
        self, argv: tuple[str, ...], code: str, memory_mb: int = 0, main: str | None = None
    ) -> tuple[str, ...]:
        src = self.file_name(code)
        stem = main or src.rsplit(".", 1)[0]
        return tuple(a.format(src=src, stem=stem, mem=memory_mb, box=BOX) for a in argv)


def with_sentinel(lang: Language, code: str, sentinel: Sentinel, nonce: str) -> str:
    """`code` with `sentinel` added: it prints a line holding `nonce` once the program has run to its end."""
    stem = lang.file_name(code).rsplit(".", 1)[0]
    for pattern, replacement in sentinel.renames:
        code = re.sub(pattern, replacement, code, count=1, flags=re.MULTILINE)
    return sentinel.prelude + code + sentinel.epilogue.format(nonce=nonce, stem=stem)


# Harness sentinels (see `Sentinel`). Interpreted programs print it after their last statement;
# compiled ones from a wrapper around their entry point, which prints it only once that returns
# normally (C's main is wrapped at link time, so any signature of it works).
_PRINT_LAST = {
    "python": Sentinel('\nprint("\\n{nonce}", flush=True)\n'),
    "php": Sentinel('\necho "\\n{nonce}\\n";\n'),
    "bash": Sentinel("\nbuiltin printf '\\n%s\\n' {nonce}\n"),
}
_C_WRAP = (
    "\n{extern}int __real_main(int, char **, char **);\n"
    "{extern}int __wrap_main(int argc, char **argv, char **envp) {{{{\n"
    "    int status = __real_main(argc, argv, envp);\n"
    '    if (status == 0) __builtin_printf("\\n%s\\n", "{{nonce}}");\n'
    "    return status;\n}}}}\n"
)
# A program cannot replace console.assert, which HumanEval-X's JavaScript tests report failures with.
_FREEZE_ASSERT = (
    'Object.defineProperty(console, "assert", {value: console.assert, writable: false, configurable: false});'
)
_JS_SENTINEL = Sentinel('\n;console.log("\\n{nonce}");\n', prelude=_FREEZE_ASSERT)
_JVM_SENTINEL = Sentinel(
    "\nclass OorlHarnessMain {{ public static void main(String[] args) throws Throwable {{ "
    '{stem}.main(args); System.out.print("\\n{nonce}\\n"); System.out.flush(); }} }}\n',
    main="OorlHarnessMain",
)
# C#: the program's own Main (any class, any access, with or without arguments) is found and called.
_CS_SENTINEL = """
static class OorlHarnessMain {{
    static int Main(string[] args) {{
        foreach (var type in typeof(OorlHarnessMain).Assembly.GetTypes()) {{
            if (type == typeof(OorlHarnessMain)) continue;
            var flags = System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
            var main = type.GetMethod("Main", flags);
            if (main == null) continue;
            object status;
            try {{
                status = main.Invoke(null, main.GetParameters().Length == 0 ? null : new object[] {{ args }});
            }} catch (System.Reflection.TargetInvocationException e) {{
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }}
            if (status is int && (int)status != 0) return (int)status;
            System.Console.Out.Flush();
            System.Console.Out.Write("\\n{nonce}\\n");
            System.Console.Out.Flush();
            return 0;
        }}
        return 1;
    }}
}}
"""
# Debian has no node-types-node: Node's globals and modules, loosely typed, for tsc
_NODE_TYPES = "oorl-node.d.ts"
_NODE_DECLARATIONS = (Path(__file__).parent / "data" / "typescript" / "node.d.ts").read_text().splitlines()
_DECLARES = re.compile(
    r"^\s*(?:export\s+)?(?:declare\s+)?(?:const|let|var|function|class|type|interface|namespace)\s+([\w$]+)",
    re.MULTILINE,
)


def _node_types(code: str) -> tuple[tuple[str, str], ...]:
    """Node's declarations, less the globals `code` declares itself (many programs written for a tsc
    without Node's types say `declare const require: any;`, which a second declaration would break)."""
    own = set(_DECLARES.findall(code))
    kept = [line for line in _NODE_DECLARATIONS if not (m := _DECLARES.match(line)) or m.group(1) not in own]
    return ((_NODE_TYPES, "\n".join(kept) + "\n"),)


_GO_IMPORT_OS = (r"^package\s+(\w+)", r'package \1; import oorlos "os"')


LANGUAGES: dict[str, Language] = {
    lang.name: lang
    for lang in (
        Language(
            name="python",
            aliases=("py", "python3"),
            fence_tags=("python", "py", "python3"),
            source_name=lambda _: "main.py",
            run=("/usr/bin/python3", "-B", "{box}/{src}"),
            env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"},
            assertion_markers=("AssertionError",),
            memory_markers=("MemoryError",),
            sentinel=_PRINT_LAST["python"],
            packages=("python3", "python3-numpy"),
            version_argv=("/usr/bin/python3", "--version"),
        ),
        Language(
            name="cpp",
            aliases=("c++", "cxx", "cc"),
            fence_tags=("cpp", "c++", "cxx", "cc"),
            source_name=lambda _: "main.cpp",
            compile=("/usr/bin/g++", "-std=c++17", "-O2", "-pipe", "{src}", "-o", "main", "-lm", "-lcrypto"),
            run=("{box}/main",),
            assertion_markers=("Assertion `",),
            memory_markers=("std::bad_alloc",),
            sentinel=Sentinel(_C_WRAP.format(extern='extern "C" '), compile_flags=("-Wl,--wrap=main",)),
            packages=("g++", "libboost-dev", "libssl-dev"),
            version_argv=("/usr/bin/g++", "--version"),
        ),
        Language(
            name="c",
            aliases=(),
            fence_tags=("c",),
            source_name=lambda _: "main.c",
            compile=("/usr/bin/gcc", "-std=gnu11", "-O2", "-pipe", "{src}", "-o", "main", "-lm"),
            run=("{box}/main",),
            assertion_markers=("Assertion `",),
            sentinel=Sentinel(_C_WRAP.format(extern=""), compile_flags=("-Wl,--wrap=main",)),
            packages=("gcc",),
            version_argv=("/usr/bin/gcc", "--version"),
        ),
        Language(
            name="java",
            aliases=(),
            fence_tags=("java",),
            source_name=_java_name,
            compile=(
                "/usr/bin/javac",
                "-J-XX:+UseSerialGC",
                "-J-XX:TieredStopAtLevel=1",
                "-encoding",
                "UTF-8",
                "-cp",
                _JAVATUPLES,
                "-d",
                "out",
                "{src}",
            ),
            run=(
                "/usr/bin/java",
                "-ea",
                *_JVM_FLAGS,
                "-Xmx{mem}m",
                "-cp",
                "{box}/out:" + _JAVATUPLES,
                "{stem}",
            ),
            failure_markers=("AssertionError",),
            as_headroom_mb=None,
            assertion_markers=("AssertionError",),
            memory_markers=("java.lang.OutOfMemoryError",),
            sentinel=_JVM_SENTINEL,
            packages=("default-jdk-headless", "libjavatuples-java"),
            version_argv=("/usr/bin/javac", "-version"),
        ),
        Language(
            name="php",
            aliases=(),
            fence_tags=("php",),
            source_name=lambda _: "main.php",
            run=("/usr/bin/php", "-d", "memory_limit=-1", "{box}/{src}"),
            assertion_markers=("Test failed",),
            memory_markers=("Allowed memory size",),
            sentinel=_PRINT_LAST["php"],
            packages=("php-cli",),
            version_argv=("/usr/bin/php", "--version"),
        ),
        Language(
            name="bash",
            aliases=("sh", "shell"),
            fence_tags=("bash", "sh", "shell"),
            source_name=lambda _: "main.sh",
            run=("/bin/bash", "{box}/{src}"),
            sentinel=_PRINT_LAST["bash"],
            packages=("bash",),
            version_argv=("/bin/bash", "--version"),
        ),
        Language(
            name="javascript",
            aliases=("js", "node"),
            fence_tags=("javascript", "js", "node", "nodejs"),
            source_name=lambda _: "main.js",
            run=("/usr/bin/node", "--max-old-space-size={mem}", "{box}/{src}"),
            failure_markers=("Assertion failed",),
            as_headroom_mb=None,
            assertion_markers=("AssertionError", "Assertion failed"),
            memory_markers=("JavaScript heap out of memory",),
            sentinel=_JS_SENTINEL,
            packages=("nodejs",),
            version_argv=("/usr/bin/node", "--version"),
        ),
        Language(
            name="typescript",
            aliases=("ts",),
            fence_tags=("typescript", "ts"),
            source_name=lambda _: "main.ts",
            compile=(
                "/usr/bin/tsc",
                "--target",
                "es2020",
                "--module",
                "commonjs",
                "--skipLibCheck",
                "--esModuleInterop",  # `import fs from "fs"` works as with tsc --init's defaults
                "--outDir",
                "out",
                _NODE_TYPES,
                "{src}",
            ),
            run=("/usr/bin/node", "--max-old-space-size={mem}", "{box}/out/{stem}.js"),
            failure_markers=("Assertion failed",),
            as_headroom_mb=None,
            assertion_markers=("AssertionError", "Assertion failed"),
            memory_markers=("JavaScript heap out of memory",),
            support=_node_types,
            sentinel=_JS_SENTINEL,
            packages=("node-typescript", "nodejs"),
            version_argv=("/usr/bin/tsc", "--version"),
        ),
        Language(
            name="go",
            aliases=("golang",),
            fence_tags=("go", "golang"),
            source_name=lambda code: "main_test.go" if re.search(_GO_TEST, code) else "main.go",
            compile=("/usr/bin/go", "build", "-o", "main", "{src}"),
            run=("{box}/main",),
            test_pattern=_GO_TEST,
            test_compile=("/usr/bin/go", "test", "-c", "-vet=off", "-o", "main.test", "{src}"),
            test_run=("{box}/main.test",),
            env=_GO_ENV,
            as_headroom_mb=1024,
            memory_markers=("out of memory",),
            sentinel=Sentinel(
                '\nfunc main() {{ oorlUserMain(); oorlos.Stdout.WriteString("\\n{nonce}\\n") }}\n',
                renames=(_GO_IMPORT_OS, (r"^func main\(\)", "func oorlUserMain()")),
            ),
            # the sentinel's test comes last: Go runs a file's tests in order
            test_sentinel=Sentinel(
                '\nfunc TestZzzOorlHarnessEnd(t *testing.T) {{ oorlos.Stdout.WriteString("\\n{nonce}\\n") }}\n',
                run_flags=("-test.v",),
                renames=(_GO_IMPORT_OS,),
            ),
            test_passed=r"(?m)^--- PASS: ",
            test_failed=r"(?m)^(--- FAIL|FAIL$)",
            packages=("golang-go", "golang-github-stretchr-testify-dev"),
            version_argv=("/usr/bin/go", "version"),
        ),
        Language(
            name="csharp",
            aliases=("cs", "c#"),
            fence_tags=("csharp", "cs", "c#"),
            source_name=lambda _: "main.cs",
            compile=(
                "/usr/bin/mcs",
                "-d:DEBUG",
                "-r:System.Numerics.dll",
                "-nowarn:0105,0162,0168,0219,0414",  # 0105: a using the implicit ones repeat
                "-out:main.exe",
                "{src}",
            ),
            run=("/usr/bin/mono", "--debug", "{box}/main.exe"),
            # mono's Debug.Assert writes nothing and carries on to exit 0, unless its trace listener is
            # sent to stderr: then a failure prints a stack trace through TraceInternal.Fail
            env={"MONO_TRACE_LISTENER": "Console.Error"},
            failure_markers=("System.Diagnostics.TraceInternal.Fail",),
            as_headroom_mb=None,
            assertion_markers=("System.Diagnostics.TraceInternal.Fail",),
            memory_markers=("OutOfMemoryException",),
            prepare=csharp_source.prepare,
            sentinel=Sentinel(_CS_SENTINEL, compile_flags=("-main:OorlHarnessMain",)),
            packages=("mono-mcs", "mono-runtime"),
            version_argv=("/usr/bin/mcs", "--version"),
        ),
        Language(
            name="scala",
            aliases=(),
            fence_tags=("scala",),
            source_name=_named_by(r"^\s*object\s+(\w+)", "Main", "scala"),
            compile=("/usr/bin/scalac", "-nowarn", "-d", ".", "{src}"),
            run=("/usr/bin/java", "-ea", *_JVM_FLAGS, "-Xmx{mem}m", "-cp", "{box}:" + _SCALA_LIB, "{stem}"),
            env={"JAVA_OPTS": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss4m"},
            failure_markers=("AssertionError",),
            as_headroom_mb=None,
            assertion_markers=("AssertionError",),
            memory_markers=("java.lang.OutOfMemoryError",),
            sentinel=Sentinel(
                "\nobject OorlHarnessMain {{ def main(args: Array[String]): Unit = {{ "
                '{stem}.main(args); print("\\n{nonce}\\n"); Console.flush() }} }}\n',
                main="OorlHarnessMain",
            ),
            packages=("scala", "default-jdk-headless"),
            version_argv=("/usr/bin/scalac", "-version"),
        ),
        Language(
            name="haskell",
            aliases=("hs",),
            fence_tags=("haskell", "hs"),
            source_name=lambda _: "Main.hs",
            compile=("/usr/bin/ghc", "-O0", "-v0", "-outputdir", "o", "-o", "main", "{src}"),
            run=("{box}/main",),
            # GHC's runtime reserves a 1 TB heap address range up front
            as_headroom_mb=None,
            assertion_markers=("assertion failed",),
            memory_markers=("Heap exhausted", "out of memory"),
            sentinel=Sentinel(
                '\noorlHarnessMain :: Prelude.IO ()\noorlHarnessMain = main Prelude.>> Prelude.putStrLn "\\n{nonce}"\n',
                compile_flags=("-main-is", "oorlHarnessMain"),
            ),
            packages=("ghc",),
            version_argv=("/usr/bin/ghc", "--version"),
        ),
        Language(
            name="rust",
            aliases=("rs",),
            fence_tags=("rust", "rs"),
            source_name=lambda _: "main.rs",
            # Debian's rustc (LLVM 14); the newer one under ~/.cargo is out of the sandbox's reach.
            compile=("/usr/bin/rustc", "-O", "--edition", "2021", "-C", "debuginfo=0", "-o", "main", "{src}"),
            run=("{box}/main",),
            test_pattern=r"#\[test\]",
            test_compile=(
                "/usr/bin/rustc",
                "--test",
                "-O",
                "--edition",
                "2021",
                "-C",
                "debuginfo=0",
                "-o",
                "main.test",
                "{src}",
            ),
            test_run=("{box}/main.test", "--test-threads=1"),
            assertion_markers=("assertion failed", "panicked at"),
            memory_markers=("memory allocation of",),
            sentinel=Sentinel(
                '\nfn main() {{ oorl_user_main(); println!("\\n{nonce}"); }}\n',
                renames=((r"\bfn\s+main\s*\(\s*\)\s*\{", "fn oorl_user_main() {"),),
            ),
            # libtest runs tests in name order: the sentinel's comes last
            test_sentinel=Sentinel(
                '\n#[test]\nfn zzzz_oorl_harness_end() {{ println!("\\n{nonce}"); }}\n',
                run_flags=("--nocapture",),
            ),
            test_passed=r"test result: ok\. (\d+) passed",
            test_failed=r"test result: FAILED",
            packages=("rustc",),
            version_argv=("/usr/bin/rustc", "--version"),
        ),
    )
}

_BY_ALIAS: dict[str, Language] = {}
for _lang in LANGUAGES.values():
    for _key in (_lang.name, *_lang.aliases, *_lang.fence_tags):
        _BY_ALIAS.setdefault(_key.lower(), _lang)


class UnknownLanguageError(ValueError):
    """A language name that the registry does not know; the message lists the known ones."""


def get_language(name: str) -> Language:
    """The entry for a language name or alias (case-insensitive): `get_language("c++").name == "cpp"`."""
    lang = _BY_ALIAS.get(name.strip().lower())
    if lang is None:
        known = ", ".join(
            f"{n} ({', '.join(lg.aliases)})" if lg.aliases else n for n, lg in LANGUAGES.items()
        )
        raise UnknownLanguageError(f"unknown language {name!r}; known languages: {known}")
    return lang


def canonical_language(name: str) -> str:
    """The registry name for any alias: `canonical_language("ts") == "typescript"`."""
    return get_language(name).name
