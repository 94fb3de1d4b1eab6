"""The compile cache: compiled programs by content, written only by the sandbox's own (trusted) code.

    <root>/<kk>/<key>/       the box: the source and what the compiler left (root-owned, read-only),
                             bound at /box for every run of the program
    <root>/<kk>/<key>.json   its metadata (`Entry`): the compile result and the harness sentinel,
                             outside the box, written by us alone
    <root>/staging/<uuid>/   a compile step's box while it runs (the slot's uid owns it)

The key hashes the whole input: language, compile argv (flags included), environment, the compiler's
identity (path, size, mtime), file name, the files written beside the source, the code as prepared
for the compiler, and whether a harness sentinel was added. A compile
step can run the submitter's code (Template Haskell, cgo flags, Go's `//line` directives on Debian's
Go 1.19 (CVE-2023-39323)...), so what it leaves is untrusted: `commit` never follows or opens it
(links are dropped; FIFOs, sockets and devices refused) and the metadata is never read from it.
No compiler keeps a cache of its own across compile steps: each step's /tmp, HOME included, is
thrown away with it. Go's GOCACHE lies there (testify and its dependencies come prebuilt, read-only,
from /usr/share/gocode/pkg: see scripts/setup.sh); GHC's package database is the system's,
read-only, and its per-user files are under that HOME; scalac runs without its compile server;
rustc and tsc build nothing incrementally; javac, mcs, gcc and clang keep nothing; Python writes no
bytecode (PYTHONDONTWRITEBYTECODE, and /box is read-only at run time).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import threading
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

from oorl.langs import Language
from oorl.sandbox.types import CompileResult

RECENT_PROGRAMS = 4096  # compile results a cache keeps in memory
_PUBLISH_WAIT_S = 10.0  # how long to wait for the worker that published the same program first


class Entry(BaseModel):
    """What the cache knows about one compiled program."""

    result: CompileResult
    nonce: str | None = None  # the harness sentinel compiled into it, if any


class UnsafeOutput(ValueError):
    """A compile step left something that is neither a regular file, a directory nor a link."""


def _identity(box: Path) -> tuple[int, int] | None:
    """(inode, mtime) of a box's metadata file: a new publish of the same key is a new file."""
    try:
        st = os.stat(box.with_suffix(".json"))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


class CompileCache:
    """Compiled programs by content (see the module docstring). Failed compiles are cached too, so
    re-judging any program never compiles it again."""

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
        # (language, code, harness) -> ((key, box, entry), its metadata file's identity) for programs
        # met lately: re-judging one (a repeated sample, a second test set) skips hashing and reading
        # its metadata. The identity (inode, mtime) tells when another process evicted the entry and
        # published the program again, with another harness nonce.
        self._recent: dict[tuple[str, str, bool], tuple[tuple[str, Path, Entry], tuple[int, int]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(lang: Language, code: str, *, harness: bool = False) -> str:
        h = hashlib.sha256()
        sentinel = lang.sentinel_for(code) if harness else None
        argv = lang.compile_argv(code, sentinel) or ()
        tool = argv[0] if argv else lang.run[0]
        with contextlib.suppress(OSError):
            st = os.stat(tool)
            tool = f"{tool}:{st.st_size}:{st.st_mtime_ns}"
        env = json.dumps(lang.env, sort_keys=True)
        mode = "harness" if sentinel is not None else "plain"
        support = "\0".join(f"{name}\0{text}" for name, text in lang.support_files(code))
        for part in (lang.name, "\0".join(argv), env, tool, lang.file_name(code), mode, support, code):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def find(self, lang: Language, code: str, *, harness: bool = False) -> tuple[str, Path, Entry | None]:
        """(key, box directory, the cached entry for `code` or None if there is none)."""
        recent = self._recent.get((lang.name, code, harness))
        if recent is not None and os.path.isdir(recent[0][1]) and _identity(recent[0][1]) == recent[1]:
            return recent[0]
        key = self.key(lang, code, harness=harness)
        before = _identity(self.path(key))
        entry = self.lookup(key)
        found = (key, self.path(key), entry)
        if entry is not None and before is not None and _identity(self.path(key)) == before:
            with self._lock:
                if len(self._recent) >= RECENT_PROGRAMS:
                    del self._recent[next(iter(self._recent))]
                self._recent[lang.name, code, harness] = (found, before)
        return found

    def lookup(self, key: str) -> Entry | None:
        box = self.path(key)
        try:
            entry = Entry.model_validate_json(box.with_suffix(".json").read_bytes())
        except (OSError, ValueError):
            return None
        if not box.is_dir():  # evicted
            return None
        entry.result = entry.result.model_copy(update={"cached": True})
        return entry

    def staging(self, owner_uid: int) -> Path:
        d = self.root / "staging" / uuid.uuid4().hex
        d.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(d, owner_uid, owner_uid)
        return d

    def commit(self, key: str, staged: Path, entry: Entry) -> tuple[Path, Entry]:
        """Freeze `staged` (root-owned, read-only to others) and publish it under `key`: (box, entry),
        which are another worker's when it published the same program first. Raises UnsafeOutput (and
        OSError) with `staged` removed."""
        try:
            _freeze(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        box = self.path(key)
        box.parent.mkdir(exist_ok=True)
        try:
            os.rename(staged, box)
        except OSError:  # another worker published the same program first: its box, its metadata
            shutil.rmtree(staged, ignore_errors=True)
            return box, self._wait_for(key)
        _write_new(box.with_suffix(".json"), entry.model_dump_json().encode(), self.root / "staging")
        self._inserts += 1
        if self._inserts % 1000 == 0:
            self.evict()
        return box, entry

    def _wait_for(self, key: str) -> Entry:
        deadline = time.monotonic() + _PUBLISH_WAIT_S
        while (entry := self.lookup(key)) is None:
            if time.monotonic() > deadline:  # a box whose publisher died before its metadata
                shutil.rmtree(self.path(key), ignore_errors=True)
                raise OSError(f"the compile cache entry {key} had no metadata: removed, compile again")
            time.sleep(0.01)
        return entry.model_copy(update={"result": entry.result.model_copy(update={"cached": False})})

    def evict(self) -> None:
        """Drop the least recently published tenth of the entries once there are more than max_entries."""
        entries = [p for p in self.root.glob("??/*.json")]
        if len(entries) <= self.max_entries:
            return
        entries.sort(key=lambda p: p.stat().st_mtime)
        for meta in entries[: len(entries) - int(self.max_entries * 0.9)]:
            meta.unlink(missing_ok=True)
            shutil.rmtree(meta.with_suffix(""), ignore_errors=True)
        with self._lock:
            self._recent.clear()


def _freeze(staged: Path) -> None:
    """Make what a compile step left root-owned and read-only for others, without following or opening
    any of it: links are dropped, and a FIFO, socket or device is refused (UnsafeOutput). Every
    process of the step is gone by now, so nothing changes under us."""
    root = os.geteuid() == 0

    def fix(name: str, dir_fd: int | None, st: os.stat_result) -> None:
        if root:
            os.chown(name, 0, 0, dir_fd=dir_fd, follow_symlinks=False)
        executable = stat.S_ISDIR(st.st_mode) or st.st_mode & 0o111
        os.chmod(name, (st.st_mode & 0o755) | 0o444 | (0o111 if executable else 0), dir_fd=dir_fd)

    fix(str(staged), None, os.stat(staged, follow_symlinks=False))
    for dirpath, dirnames, filenames, dir_fd in os.fwalk(staged, follow_symlinks=False):
        for name in dirnames + filenames:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                os.unlink(name, dir_fd=dir_fd)  # a program must not plant links to host files in the cache
            elif stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
                fix(name, dir_fd, st)
            else:
                where = os.path.relpath(os.path.join(dirpath, name), staged)
                raise UnsafeOutput(
                    f"the compile step left a {_kind(st.st_mode)} at {where}: only files and directories are kept"
                )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def _write_new(path: Path, data: bytes, scratch: Path) -> None:
    """Write `path` whole (a reader sees all of it or nothing), creating its temporary file with
    O_EXCL | O_NOFOLLOW in a directory only we write."""
    tmp = scratch / f"{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_traversable(path: Path) -> None:
    """Sandboxed runs (other uids) bind cache entries: every parent directory must let them through."""
    for parent in [path, *path.parents]:
        if not os.stat(parent).st_mode & 0o001:
            raise ValueError(
                f"the compile cache {path} is unreachable for sandboxed programs: {parent} is not "
                f"world-searchable (chmod o+x {parent}, or choose another cache directory)"
            )
