"""Judging: compile once (content-addressed cache), then run every test, one verdict per test and overall."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

from oorl.langs import Language, UnknownLanguageError, get_language
from oorl.sandbox.compare import outputs_match
from oorl.sandbox.isolation import ExecResult, RunLimits, Slot, execute
from oorl.sandbox.types import CompileResult, JudgeRequest, JudgeResult, Limits, TestResult, Verdict

# A non-zero exit whose output shows a failed assertion is a wrong answer, not a crash.
ASSERTION_MARKERS = (
    "AssertionError",
    "Assertion failed",
    "Assertion `",
    "assertion failed",
    "DEBUG ASSERTION FAILED",
    "--- FAIL",
    "test result: FAILED",
    "Test failed",
)
# A runtime that hits its own heap limit reports it instead of being killed by the cgroup.
MEMORY_MARKERS = (
    "java.lang.OutOfMemoryError",
    "JavaScript heap out of memory",
    "MemoryError",
    "std::bad_alloc",
    "memory allocation of",
    "Out of memory",
    "out of memory",
    "Allowed memory size",
)
COMPILE_OUTPUT_BYTES = 1 << 20
RECENT_PROGRAMS = 4096  # compile results a cache keeps in memory


_PRESENT: set[str] = set()  # toolchain binaries found once (a missing one is looked for every time)


def missing_toolchain(lang: Language, code: str = "") -> str | None:
    """None if the binaries `lang` needs exist, else a message naming the Debian package(s)."""
    run = lang.run_argv(code, 64)[0]
    first = (lang.compile_argv(code) or (run,))[0]
    for binary in (first, run) if os.path.isabs(first) else (run,):
        if binary in _PRESENT or binary.startswith("/box"):
            continue
        if not os.access(binary, os.X_OK):
            return f"{lang.name}: {binary} is missing; install it with: apt-get install {' '.join(lang.packages)}"
        _PRESENT.add(binary)
    return None


class CompileCache:
    """Compiled programs by content: sha256(language, compile argv, toolchain identity, file name, code).

    An entry is a directory holding the source and what the compiler produced, plus `compile.json`.
    Entries are root-owned and read-only for the sandboxed runs that bind them at /box. Failed
    compiles are cached too, so re-judging any program never compiles it again.
    """

    def __init__(self, root: str | os.PathLike | None = None, max_entries: int = 50_000):
        if root is None:
            root = os.environ.get("OORL_SANDBOX_CACHE") or (
                "/var/tmp/oorl-sandbox-cache" if os.geteuid() == 0 else Path.home() / ".cache/oorl/sandbox"
            )
        self.root = Path(root).absolute()
        (self.root / "staging").mkdir(parents=True, exist_ok=True)
        for d in (self.root, self.root / "staging"):
            d.chmod(0o755)
        if os.geteuid() == 0:
            _check_traversable(self.root)
        self.max_entries = max_entries
        self._inserts = 0
        # (language, code) -> (key, entry directory, result) for programs met lately: re-judging one
        # (a repeated sample, a second test set) skips hashing and reading its compile.json
        self._recent: dict[tuple[str, str], tuple[str, Path, CompileResult]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(lang: Language, code: str) -> str:
        h = hashlib.sha256()
        argv = lang.compile_argv(code) or ()
        tool = argv[0] if argv else lang.run[0]
        with contextlib.suppress(OSError):
            st = os.stat(tool)
            tool = f"{tool}:{st.st_size}:{st.st_mtime_ns}"
        env = json.dumps(lang.env, sort_keys=True)
        for part in (lang.name, "\0".join(argv), env, tool, lang.file_name(code), code):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def find(self, lang: Language, code: str) -> tuple[str, Path, CompileResult | None]:
        """(key, entry directory, the cached result of compiling `code` or None if there is none)."""
        recent = self._recent.get((lang.name, code))
        if recent is not None and os.path.isdir(recent[1]):  # another process may have evicted it
            return recent
        key = self.key(lang, code)
        found = (key, self.path(key), self.lookup(key))
        if found[2] is not None:
            with self._lock:
                if len(self._recent) >= RECENT_PROGRAMS:
                    del self._recent[next(iter(self._recent))]
                self._recent[lang.name, code] = found
        return found

    def lookup(self, key: str) -> CompileResult | None:
        meta = self.path(key) / "compile.json"
        try:
            return CompileResult.model_validate_json(meta.read_text()).model_copy(update={"cached": True})
        except (OSError, ValueError):
            return None

    def staging(self, owner_uid: int) -> Path:
        d = self.root / "staging" / uuid.uuid4().hex
        d.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(d, owner_uid, owner_uid)
        return d

    def tool_cache(self, lang: Language, uid: int) -> Path:
        """A compiler's own cache for one slot uid (e.g. Go's build cache), kept across compiles."""
        d = self.root / "toolcache" / lang.name / str(uid)
        if not d.is_dir():
            d.mkdir(parents=True, exist_ok=True)
            d.parent.chmod(0o755)
            d.parent.parent.chmod(0o755)
            if os.geteuid() == 0:
                os.chown(d, uid, uid)
            d.chmod(0o700)
        return d

    def commit(self, key: str, staged: Path, result: CompileResult) -> Path:
        """Freeze `staged` (root-owned, read-only to others) and publish it under `key`."""
        for dirpath, dirnames, filenames in os.walk(staged):
            for name in (dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)):
                if os.path.islink(name):
                    os.unlink(name)  # a program must not plant links to host files in the cache
                    continue
                if os.geteuid() == 0:
                    os.chown(name, 0, 0)
                mode = os.stat(name).st_mode
                os.chmod(name, (mode & 0o755) | 0o444 | (0o111 if mode & 0o111 or os.path.isdir(name) else 0))
        (staged / "compile.json").write_text(result.model_dump_json())
        final = self.path(key)
        final.parent.mkdir(exist_ok=True)
        try:
            os.rename(staged, final)
        except OSError:  # another worker published the same program first
            shutil.rmtree(staged, ignore_errors=True)
        self._inserts += 1
        if self._inserts % 1000 == 0:
            self.evict()
        return final

    def evict(self) -> None:
        """Drop the least recently published tenth of the entries once there are more than max_entries."""
        entries = [p for p in self.root.glob("??/*") if p.is_dir()]
        if len(entries) <= self.max_entries:
            return
        entries.sort(key=lambda p: p.stat().st_mtime)
        for p in entries[: len(entries) - int(self.max_entries * 0.9)]:
            shutil.rmtree(p, ignore_errors=True)
        with self._lock:
            self._recent.clear()


def _check_traversable(path: Path) -> None:
    """Sandboxed runs (other uids) bind cache entries: every parent directory must let them through."""
    for parent in [path, *path.parents]:
        if not os.stat(parent).st_mode & 0o001:
            raise ValueError(
                f"the compile cache {path} is unreachable for sandboxed programs: {parent} is not "
                f"world-searchable (chmod o+x {parent}, or choose another cache directory)"
            )


def _run_limits(limits: Limits, lang: Language, *, compile: bool) -> RunLimits:
    return RunLimits(
        wall_s=limits.compile_time_s if compile else limits.time_s,
        cpu_s=limits.compile_time_s if compile else limits.cpu_seconds,
        memory_mb=limits.compile_memory_mb if compile else limits.memory_mb,
        processes=max(limits.processes, 512) if compile else limits.processes,
        file_size_mb=max(limits.file_size_mb, 256) if compile else limits.file_size_mb,
        disk_mb=max(limits.disk_mb, 1024) if compile else limits.disk_mb,
        open_files=max(limits.open_files, 1024) if compile else limits.open_files,
        output_bytes=COMPILE_OUTPUT_BYTES if compile else int(limits.output_mb * 2**20),
        as_headroom_mb=None if compile else lang.as_headroom_mb,
    )


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False


def compile_program(
    lang: Language, code: str, limits: Limits, slot: Slot, cache: CompileCache
) -> tuple[CompileResult, Path | None, str]:
    """(result, box directory to run from, sandbox error detail or "")."""
    key, entry, cached = cache.find(lang, code)
    if cached is not None:
        return cached, entry, ""
    staged = cache.staging(slot.uid)
    source = staged / lang.file_name(code)
    source.write_text(code, encoding="utf-8", errors="surrogatepass")
    argv = lang.compile_argv(code)
    if argv is None:
        return CompileResult(ok=True), cache.commit(key, staged, CompileResult(ok=True)), ""
    binds = ((cache.tool_cache(lang, slot.uid), lang.compile_cache),) if lang.compile_cache else ()
    res = execute(
        argv,
        slot=slot,
        limits=_run_limits(limits, lang, compile=True),
        box=staged,
        box_writable=True,
        binds=binds,
        env=lang.env,
    )
    if res.setup_failed:
        shutil.rmtree(staged, ignore_errors=True)
        return CompileResult(ok=False, output=res.setup_error), None, res.setup_error
    output = _decode(res.stdout + res.stderr)[0]
    if res.timed_out:
        output += f"\n[compile step exceeded {limits.compile_time_s:g} s]"
    elif res.oom_killed:
        output += f"\n[compile step exceeded {limits.compile_memory_mb} MiB]"
    elif res.signal is not None:
        output += f"\n[compiler killed by signal {signal.Signals(res.signal).name}]"
    result = CompileResult(ok=res.exit_code == 0, output=output[-20000:], time_s=round(res.wall_s, 4))
    if res.timed_out or res.oom_killed:
        shutil.rmtree(staged, ignore_errors=True)  # limits may differ next time: do not cache
        return result, None, ""
    return result, cache.commit(key, staged, result), ""


def _classify(res: ExecResult, lang: Language, limits: Limits) -> tuple[Verdict, str]:
    """The verdict of a finished run before any output comparison (ACCEPTED = ran cleanly)."""
    if res.setup_failed:
        return Verdict.SANDBOX_ERROR, res.setup_error
    if res.output_exceeded:
        return Verdict.OUTPUT_LIMIT, f"output exceeded {limits.output_mb:g} MiB"
    if res.timed_out:
        return Verdict.TIME_LIMIT, f"wall time exceeded {limits.time_s:g} s"
    if res.signal == signal.SIGXCPU:
        return Verdict.TIME_LIMIT, f"CPU time exceeded {limits.cpu_seconds:g} s"
    if res.oom_killed:
        return Verdict.MEMORY_LIMIT, f"memory exceeded {limits.memory_mb} MiB"
    text = (res.stderr + res.stdout).decode("utf-8", errors="replace")
    if res.signal is not None:
        name = (
            signal.Signals(res.signal).name if res.signal in signal.Signals._value2member_map_ else res.signal
        )
        if res.signal == signal.SIGXFSZ:
            return Verdict.RUNTIME_ERROR, f"file size limit ({limits.file_size_mb} MiB) exceeded"
        if res.signal == signal.SIGABRT and any(m in text for m in ASSERTION_MARKERS):
            return Verdict.WRONG_ANSWER, "assertion failed"
        return Verdict.RUNTIME_ERROR, f"killed by signal {name}"
    if res.exit_code != 0:
        if any(m in text for m in MEMORY_MARKERS):
            return Verdict.MEMORY_LIMIT, f"out of memory (limit {limits.memory_mb} MiB)"
        if any(m in text for m in ASSERTION_MARKERS):
            return Verdict.WRONG_ANSWER, f"assertion failed (exit code {res.exit_code})"
        return Verdict.RUNTIME_ERROR, f"exit code {res.exit_code}"
    if any(m in text for m in lang.failure_markers):
        return Verdict.WRONG_ANSWER, "the harness reported a failed test"
    return Verdict.ACCEPTED, ""


def judge(request: JudgeRequest, *, slot: Slot, cache: CompileCache, default_limits: Limits) -> JudgeResult:
    start = time.monotonic()
    limits = request.limits or default_limits
    try:
        lang = get_language(request.language)
    except UnknownLanguageError as e:
        return JudgeResult(
            verdict=Verdict.SANDBOX_ERROR, passed=0, total=max(1, len(request.tests)), detail=str(e)
        )
    total = max(1, len(request.tests))
    if not request.code.strip():
        return JudgeResult(
            verdict=Verdict.COMPILE_ERROR, passed=0, total=total, detail="the program is empty"
        )
    missing = missing_toolchain(lang, request.code)
    if missing:
        return JudgeResult(verdict=Verdict.SANDBOX_ERROR, passed=0, total=total, detail=missing)

    compiled, box, error = compile_program(lang, request.code, limits, slot, cache)
    if error:
        return JudgeResult(
            verdict=Verdict.SANDBOX_ERROR,
            passed=0,
            total=total,
            compile=compiled,
            detail=error,
            time_s=time.monotonic() - start,
        )
    if not compiled.ok:
        return JudgeResult(
            verdict=Verdict.COMPILE_ERROR,
            passed=0,
            total=total,
            compile=compiled,
            detail=compiled.output.strip().splitlines()[-1][:300] if compiled.output.strip() else "",
            time_s=time.monotonic() - start,
        )

    argv = lang.run_argv(request.code, max(32, limits.memory_mb * 3 // 4))
    run_limits = _run_limits(limits, lang, compile=False)
    results: list[TestResult] = []
    cases = request.tests or [None]
    for case in cases:
        res = execute(
            argv,
            slot=slot,
            limits=run_limits,
            stdin=case.stdin.encode() if case else b"",
            box=box,
            env=lang.env,
        )
        verdict, detail = _classify(res, lang, limits)
        stdout, stdout_ok = _decode(res.stdout)
        stderr, _ = _decode(res.stderr)
        if (
            verdict is Verdict.ACCEPTED
            and case is not None
            and case.expected is not None
            and not outputs_match(stdout, case.expected, request.checker)
        ):
            verdict = Verdict.WRONG_ANSWER
            detail = "output differs" if stdout_ok else "output differs (stdout is not valid UTF-8)"
        results.append(
            TestResult(
                verdict=verdict,
                exit_code=res.exit_code,
                stdout=stdout,
                stderr=stderr,
                time_s=round(res.wall_s, 4),
                stdin=case.stdin if case else None,
                expected=case.expected if case else None,
                detail=detail,
            )
        )
        if verdict is Verdict.SANDBOX_ERROR or (verdict is not Verdict.ACCEPTED and request.stop_on_failure):
            break
    passed = sum(r.verdict is Verdict.ACCEPTED for r in results)
    failed = next((r for r in results if r.verdict is not Verdict.ACCEPTED), None)
    return JudgeResult(
        verdict=failed.verdict if failed else Verdict.ACCEPTED,
        passed=passed,
        total=total,
        tests=results,
        compile=compiled,
        time_s=round(time.monotonic() - start, 4),
        detail=failed.detail if failed else "",
    )


def result_json(result: JudgeResult) -> str:
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)
