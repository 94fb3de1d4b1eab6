"""The language registry: one declarative entry per language the sandbox can judge.

Each entry says how a program becomes a file, how it is compiled and run, which environment it
needs and how a failed test harness shows. Choices follow the measurements in PLATFORM.md (fast,
faithful, all from Debian's packages) and MultiPL-E's evaluators (`evaluation/src/eval_<lang>.py`).

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
    # A compiler cache directory inside the sandbox that persists between compile steps (one per slot
    # uid, never mounted for runs): Go's build cache turns a 2 s testify build into 0.1 s.
    compile_cache: str | None = None
    # Harness failures that do not change the exit code: mono's Debug.Assert prints and exits 0,
    # node's console.assert only writes to stderr. Matched in stdout + stderr.
    failure_markers: tuple[str, ...] = ()
    # Without a memory cgroup the sandbox falls back to RLIMIT_AS = limit + headroom. Runtimes that
    # reserve address space up front need headroom; None means RLIMIT_AS is not safe at any size and
    # the runtime's own heap flag ({mem} in `run`) is the only bound.
    as_headroom_mb: int | None = 64
    # Debian packages that provide the toolchain, and the binaries to probe for `oorl doctor`.
    packages: tuple[str, ...] = ()
    version_argv: tuple[str, ...] = ()

    def file_name(self, code: str) -> str:
        return self.source_name(code)

    def is_test_source(self, code: str) -> bool:
        return self.test_pattern is not None and re.search(self.test_pattern, code) is not None

    def compile_argv(self, code: str) -> tuple[str, ...] | None:
        argv = self.test_compile if self.is_test_source(code) and self.test_compile else self.compile
        return self._format(argv, code) if argv else None

    def run_argv(self, code: str, memory_mb: int) -> tuple[str, ...]:
        argv = self.test_run if self.is_test_source(code) and self.test_run else self.run
        return self._format(argv, code, memory_mb)

    def _format(self, argv: tuple[str, ...], code: str, memory_mb: int = 0) -> tuple[str, ...]:
        src = self.file_name(code)
        stem = src.rsplit(".", 1)[0]
        return tuple(a.format(src=src, stem=stem, mem=memory_mb, box=BOX) for a in argv)


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
            packages=("default-jdk-headless", "libjavatuples-java"),
            version_argv=("/usr/bin/javac", "-version"),
        ),
        Language(
            name="php",
            aliases=(),
            fence_tags=("php",),
            source_name=lambda _: "main.php",
            run=("/usr/bin/php", "-d", "memory_limit=-1", "{box}/{src}"),
            packages=("php-cli",),
            version_argv=("/usr/bin/php", "--version"),
        ),
        Language(
            name="bash",
            aliases=("sh", "shell"),
            fence_tags=("bash", "sh", "shell"),
            source_name=lambda _: "main.sh",
            run=("/bin/bash", "{box}/{src}"),
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
                "--outDir",
                "out",
                "{src}",
            ),
            run=("/usr/bin/node", "--max-old-space-size={mem}", "{box}/out/{stem}.js"),
            failure_markers=("Assertion failed",),
            as_headroom_mb=None,
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
            compile_cache="/tmp/gocache",
            as_headroom_mb=1024,
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
                "-nowarn:0162,0168,0219,0414",
                "-out:main.exe",
                "{src}",
            ),
            run=("/usr/bin/mono", "--debug", "{box}/main.exe"),
            # mono's Debug.Assert writes nothing and carries on to exit 0, unless its trace listener is
            # sent to stderr: then a failure prints a stack trace through TraceInternal.Fail
            env={"MONO_TRACE_LISTENER": "Console.Error"},
            failure_markers=("System.Diagnostics.TraceInternal.Fail",),
            as_headroom_mb=None,
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
