"""One isolated process run: the mechanism under every compile and every test.

    launcher (root, one per slot, long-lived, in the slot's cgroups: see `launcher.py`)
      ->  fork, drop to the slot's own uid, exec bwrap: the slot's house, started once
          (new user, network, PID, IPC, UTS, cgroup and mount namespaces; only system directories,
          read-only; the compile cache at /.oorl/cache; a scrubbed environment)
        ->  the run server (see `init.c`), which forks every run of the slot into its own PID,
            mount, IPC, UTS and user namespaces, with a fresh /proc, a size-capped /tmp and
            /dev/shm, /box bound from the cache, rlimits, no capabilities.

Why each layer (measured on Debian 12, see PLATFORM.md):
- `bwrap --uid` started as root does not drop privileges, so the launcher's child drops first
  (groups, gid, uid; the launcher has already emptied its capability bounding set and inheritable
  capabilities, which the child inherits).
- Each worker slot holds its own unprivileged uid (never a real account; unique machine-wide while
  held), so concurrent runs cannot touch each other's files.
- Runs are born in the slot's cgroups: joining a cgroup v1 hierarchy costs an RCU grace period, so
  the launcher joins once instead of every run. The house's resident processes (launcher, bwrap,
  run server) are counted in the limits (pids.max and the memory limit allow for them) and are never
  the memory cgroup's OOM victim: every run raises its own OOM score to the maximum.
- A run's process count is RLIMIT_NPROC, which the kernel counts in the run's own user namespace:
  exactly the program's processes and threads, nested user namespaces included. The pids cgroup,
  where there is one, bounds the whole slot.
- One bwrap per run cost about 3 ms of set-up per run; the run server prepares each run before its
  request comes, with the same isolation, except that the slot's runs share (one after another) a
  network namespace that holds nothing but loopback.
- The PID namespace dies with its init: when the program exits, every daemonised, setsid or
  double-forked child dies with it, and the init answers only once they are gone. When a house
  dies, the slot's cgroups are swept (all but the launcher).
- Memory is bounded by a cgroup where the machine has one; otherwise by RLIMIT_AS where that is safe
  for the runtime (see `Language.as_headroom_mb`) and the runtime's own heap flag where it is not.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SLOT_UID_BASE, SLOT_UID_COUNT = 61000, 4000  # uids 61000..64999 are used only by sandbox slots
CGROUP_ROOT = Path("/sys/fs/cgroup")
_RO_DIRS = ("/usr", "/etc", "/var/lib/ghc")  # everything a toolchain reads; /root, /home, /work stay hidden
_USR_LINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")
_LAUNCHER_SCRIPT = str(Path(__file__).with_name("launcher.py"))
_INIT_SOURCE = Path(__file__).with_name("init.c")
_HOUSE_CACHE = "/.oorl/cache"  # where the house binds the compile cache (CACHE in init.c)
_FOREVER_S = 1e7  # the house's wall limit at the launcher: it lives as long as the slot
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


class SandboxUnavailable(RuntimeError):
    """The machine lacks what isolation needs (bwrap, user namespaces)."""


@dataclass(frozen=True)
class RunLimits:
    """Limits of one process run (the judge derives them from `Limits` for compile or test)."""

    wall_s: float
    cpu_s: float
    memory_mb: int
    processes: int
    file_size_mb: int
    disk_mb: int
    open_files: int
    output_bytes: int
    as_headroom_mb: int | None  # RLIMIT_AS = memory + headroom when there is no memory cgroup


@dataclass
class ExecResult:
    exit_code: int | None  # None when killed by a signal
    signal: int | None
    stdout: bytes
    stderr: bytes
    wall_s: float
    timed_out: bool = False
    output_exceeded: bool = False
    oom_killed: bool = False
    setup_failed: bool = False  # the sandbox never started the program: our fault
    setup_error: str = ""


@dataclass(frozen=True)
class Capabilities:
    root: bool
    bwrap: str | None
    cc: str | None  # builds the run server (`init.c`) on first use
    memory_cgroup: Path | None
    pids_cgroup: Path | None

    @property
    def memory_enforcement(self) -> str:
        if self.memory_cgroup is not None:
            return f"cgroup v1 memory controller ({self.memory_cgroup})"
        return "no memory cgroup: RLIMIT_AS where safe, else the runtime's heap flag (JVM -Xmx, node --max-old-space-size)"

    @property
    def process_enforcement(self) -> str:
        per_run = "RLIMIT_NPROC in each run's own user namespace"
        if self.pids_cgroup is not None:
            return f"{per_run}; the slot as a whole: cgroup v1 pids controller ({self.pids_cgroup})"
        return f"{per_run} (no pids cgroup)"


def _cgroup_parent(controller: str) -> Path | None:
    """A writable `oorl` directory under a cgroup v1 controller, or under cgroup v2 if it offers it."""
    v1 = CGROUP_ROOT / controller
    candidates = []
    if (v1 / "cgroup.procs").exists():
        candidates.append(v1 / "oorl")
    v2 = CGROUP_ROOT / "unified" if (CGROUP_ROOT / "unified" / "cgroup.controllers").exists() else CGROUP_ROOT
    if (v2 / "cgroup.controllers").exists() and controller in (v2 / "cgroup.controllers").read_text().split():
        candidates.append(v2 / "oorl")
    for path in candidates:
        try:
            path.mkdir(exist_ok=True)
            if path.parent == v2 / "" or path.parent == v2:
                (path.parent / "cgroup.subtree_control").write_text(f"+{controller}")
                (path / "cgroup.subtree_control").write_text(f"+{controller}")
            return path
        except OSError:
            continue
    return None


@cache
def capabilities() -> Capabilities:
    root = os.geteuid() == 0
    return Capabilities(
        root=root,
        bwrap=shutil.which("bwrap"),
        cc=shutil.which("gcc") or shutil.which("cc"),
        memory_cgroup=_cgroup_parent("memory") if root else None,
        pids_cgroup=_cgroup_parent("pids") if root else None,
    )


def _claim_uid() -> tuple[int, int]:
    """A slot uid no other live sandbox on this machine holds: (uid, fd of the lock that holds it).

    The lock is an flock on /run/oorl-sandbox/<uid>.lock, released by the kernel when the process dies.
    """
    lock_dir = Path("/run/oorl-sandbox")
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    for uid in range(SLOT_UID_BASE, SLOT_UID_BASE + SLOT_UID_COUNT):
        fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, fd
        except BlockingIOError:
            os.close(fd)
    raise SandboxUnavailable(f"all {SLOT_UID_COUNT} sandbox slot uids are in use")


class Slot:
    """One worker's private identity, reused run after run: its uid, its cgroups, its house.

    Every path a run binds (its box, a compiler's cache) lies under `cache_root`.
    """

    def __init__(self, cache_root: str | os.PathLike):
        caps = capabilities()
        if caps.bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed: apt-get install bubblewrap")
        self.cache_root = Path(cache_root).absolute()
        self._cache_prefix = os.path.join(self.cache_root, "")
        self._lock_fd = None
        if caps.root:
            self.uid, self._lock_fd = _claim_uid()
        else:
            self.uid = os.getuid()
        name = f"slot{self.uid}-{os.getpid()}"
        self.memory_cg = caps.memory_cgroup / name if caps.memory_cgroup else None
        self.pids_cg = caps.pids_cgroup / name if caps.pids_cgroup else None
        for cg in (self.memory_cg, self.pids_cg):
            if cg is not None:
                cg.mkdir(exist_ok=True)
        self._launcher: _Launcher | None = None
        self._house: _House | None = None
        self._configured: tuple[int, int] | None = None
        self._oom_fd = self._open_oom_events()
        self._oom_count = self._oom_kills()

    def relative(self, path: str | os.PathLike) -> str:
        """`path`, which must lie under the cache root, relative to it (as the run server takes it)."""
        path = os.fspath(path)
        if not path.startswith(self._cache_prefix) or "/../" in path or path.endswith("/.."):
            raise ValueError(f"{path} is not under the sandbox cache {self.cache_root}")
        return path[len(self._cache_prefix) :]

    def house(self) -> _House:
        """This slot's house, started (or restarted, if it died) on demand."""
        if self._house is None or not self._house.alive():
            self.drop_house()
            if self._launcher is None or not self._launcher.alive():
                if self._launcher is not None:
                    self._launcher.close()
                self._launcher = _Launcher(
                    [cg / "cgroup.procs" for cg in (self.memory_cg, self.pids_cg) if cg]
                )
            self._house = _House(self._launcher, self)
        return self._house

    def drop_house(self) -> None:
        """Forget a house that died or stopped answering (killing it, and anything of it still alive):
        the next run starts a new one."""
        if self._house is not None:
            self._house.close()
            self._house = None
            self._configured = None
            self.sweep()

    @property
    def resident_pids(self) -> frozenset[int]:
        """Host pids of the slot's own processes (launcher, bwrap, run server, and between runs the
        next run's init and runner, prepared and waiting): never a run's."""
        if self._house is None:
            return frozenset({self._launcher.pid} if self._launcher is not None else ())
        return self._house.resident | self._house.spare()

    def configure(self, limits: RunLimits) -> None:
        if self._configured == (limits.memory_mb, limits.processes):
            return  # nothing else writes these files: unchanged since the last run
        self._configured = None
        house = self.house()
        if self.memory_cg is not None:
            nbytes = str(limits.memory_mb * 2**20 + house.memory_bytes)
            with contextlib.suppress(OSError):  # memsw exists only with swap accounting
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text("-1")
            _write_first(self.memory_cg, ("memory.limit_in_bytes", "memory.max"), nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text(nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.max_usage_in_bytes").write_text("0")
        if self.pids_cg is not None:
            # besides the house and the run's `processes` (RLIMIT_NPROC): its namespace's init, and the
            # last run's until its namespaces are torn down
            (self.pids_cg / "pids.max").write_text(str(limits.processes + len(house.resident) + 2))
        self._configured = (limits.memory_mb, limits.processes)

    def oom_killed(self) -> bool:
        """Whether the memory cgroup's OOM killer struck since the last call (once per run, after it)."""
        count = self._oom_kills()
        struck, self._oom_count = count > self._oom_count, count
        return struck

    def _open_oom_events(self) -> int | None:
        for name in ("memory.oom_control", "memory.events") if self.memory_cg is not None else ():
            with contextlib.suppress(OSError):
                return os.open(self.memory_cg / name, os.O_RDONLY | os.O_CLOEXEC)
        return None

    def _oom_kills(self) -> int:
        """The memory cgroup's OOM kill count (its file kept open: one read a run)."""
        if self._oom_fd is None:
            return 0
        for line in os.pread(self._oom_fd, 4096, 0).decode().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def sweep(self, timeout: float = 5.0) -> None:
        """Once the house is gone: kill anything but the launcher still alive in this slot's cgroups
        (normally nothing: every run's PID namespace died with the house), repeating until they are
        empty, since a dying fork bomb can still be forking."""
        deadline, resident = time.monotonic() + timeout, self.resident_pids
        for cg in (self.pids_cg or self.memory_cg,):  # every process of the slot is born in both
            if cg is None:
                continue
            while True:
                pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
                if not (pids := [p for p in pids if p not in resident]):
                    break
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if time.monotonic() > deadline:
                    raise SandboxUnavailable(f"processes {pids[:10]} in {cg} survive SIGKILL")
                time.sleep(0.002)

    def close(self) -> None:
        self.drop_house()
        if self._launcher is not None:
            self._launcher.close()
            self._launcher = None
        self.sweep()
        for cg in (self.memory_cg, self.pids_cg):
            if cg is not None:
                with contextlib.suppress(OSError):
                    cg.rmdir()
        for fd in (self._lock_fd, self._oom_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._oom_fd = None


def _write_first(directory: Path, names: tuple[str, ...], value: str) -> None:
    for name in names:
        path = directory / name
        if path.exists():
            path.write_text(value)
            return


_ACCOUNT_FDS = (3, 4)  # where the house's bwrap reads its /etc/passwd and /etc/group


def _accounts(uid: int) -> list[int]:
    """The host's /etc/passwd and /etc/group with the slot's uid added (memfds, read by bwrap).

    A uid with no entry sends every lookup (bash resolves its own at start, and `id`, `whoami` and
    Python's getpass alike) past the files to libnss_systemd, about 0.25 ms per process here."""
    fds = []
    for path, entry in (
        ("/etc/passwd", f"sandbox:x:{uid}:{uid}:oorl sandbox:/tmp:/usr/sbin/nologin\n"),
        ("/etc/group", f"sandbox:x:{uid}:\n"),
    ):
        text = Path(path).read_text() if os.path.exists(path) else ""
        fd = os.memfd_create(Path(path).name)
        os.write(fd, (text + ("" if text.endswith("\n") or not text else "\n") + entry).encode())
        os.lseek(fd, 0, os.SEEK_SET)
        fds.append(fd)
    return fds


def _house_argv(caps: Capabilities, cache_root: Path) -> list[str]:
    argv = [
        caps.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        # inside the house's user namespace only: namespaces and mounts for each run, and emptying
        # bounding sets (see init.c; every run drops all of them before its program starts)
        "--cap-add",
        "CAP_SYS_ADMIN",
        "--cap-add",
        "CAP_SETPCAP",
    ]
    for d in _RO_DIRS:
        if os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for name in _USR_LINKS:  # merged-/usr systems link these into /usr; older ones have real directories
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    argv += ["--ro-bind-data", str(_ACCOUNT_FDS[0]), "/etc/passwd"]
    argv += ["--ro-bind-data", str(_ACCOUNT_FDS[1]), "/etc/group"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--dir", "/tmp", "--dir", "/box"]
    argv += ["--bind", str(cache_root), _HOUSE_CACHE]
    # bwrap builds the root and /dev as tmpfs: writable, they would bypass the disk budget
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", "/", "--clearenv"]
    argv += ["--setenv", "PATH", BASE_ENV["PATH"], "--"]
    return argv + [f"{_HOUSE_CACHE}/{build_init(cache_root).relative_to(cache_root)}"]


def build_init(cache_root: Path) -> Path:
    """The run server (`init.c`), compiled once per version of its source into the compile cache,
    where the house finds it."""
    source = _INIT_SOURCE.read_bytes()
    target = cache_root / "init" / hashlib.sha256(source).hexdigest()[:16] / "oorl-init"
    if target.exists():
        return target
    cc = capabilities().cc
    if cc is None:
        raise SandboxUnavailable("the sandbox builds its run server with a C compiler: apt-get install gcc")
    target.parent.parent.mkdir(mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent.parent, ignore_cleanup_errors=True) as tmp:
        built = Path(tmp) / "oorl-init"
        for static in (["-static"], []):  # static starts faster; not every libc ships libc.a
            compiled = subprocess.run(
                [cc, "-O2", "-Wall", *static, "-o", str(built), str(_INIT_SOURCE)],
                capture_output=True,
                text=True,
            )
            if compiled.returncode == 0:
                break
        else:
            raise SandboxUnavailable(f"cannot build the sandbox's run server:\n{compiled.stderr[-2000:]}")
        for path in (built, Path(tmp)):  # the slot's uid runs it, whatever our umask
            path.chmod(0o755)
        with contextlib.suppress(OSError):  # another process built it first
            Path(tmp).rename(target.parent)
    return target


class LauncherLost(RuntimeError):
    """The slot's launcher or house died (or stopped answering) during a run."""


class _Server:
    """Our end of a process that forks runs on request (a launcher, a house's run server): one run at a
    time, its messages on a SOCK_SEQPACKET socket."""

    sock: socket.socket

    def __init__(self):
        self._ids = 0
        self._current: _Run | None = None

    def _receive(self, timeout: float | None) -> dict:
        """The next message; {} on timeout. Raises LauncherLost if the server is gone."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return {}
        try:
            data = self.sock.recv(1 << 16)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        if not data:
            raise LauncherLost(f"{self} exited")
        return json.loads(data)

    def _ready(self) -> int:
        try:
            ready = self._receive(timeout=30)
        except LauncherLost as e:
            ready, why = {}, f"{self} did not start: {e}"
        else:
            why = f"{self} did not start in 30 s"
        if "ready" not in ready:
            self.close()
            raise SandboxUnavailable(why)
        return ready["ready"]

    def start(self, fds: list[int], **request) -> _Run:
        if self._current is not None and not self._current.wait(timeout=30):
            # one run at a time: the server reads nothing but kill requests until it has reaped
            # the last one (normally long done: we stop waiting for it once it reports the exit)
            raise LauncherLost(f"{self} did not finish the previous run in 30 s")
        self._ids += 1
        try:
            socket.send_fds(self.sock, [self.run_message(self._ids, request)], fds)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        self._current = _Run(self, self._ids)  # its pid (or why it could not fork) comes as a message
        return self._current

    def run_message(self, run_id: int, request: dict) -> bytes:
        return json.dumps({"op": "run", "id": run_id, **request}).encode()

    def kill_message(self, run_id: int) -> bytes:
        return json.dumps({"op": "kill", "id": run_id}).encode()


class _Launcher(_Server):
    """A slot's launcher process (see `oorl.sandbox.launcher`)."""

    def __init__(self, cgroup_procs: list[Path]):
        super().__init__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable or "/usr/bin/python3", "-I", "-S", _LAUNCHER_SCRIPT, str(theirs.fileno())]
                + [str(p) for p in cgroup_procs],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                start_new_session=True,  # terminal signals (Ctrl-C) are for us; it follows our lifetime
                env={"PATH": "/usr/bin:/bin"},
                cwd="/",
            )
        finally:
            theirs.close()
        self.sock = ours
        self.pid: int = self._ready()

    def __str__(self) -> str:
        return "the sandbox launcher"

    def alive(self) -> bool:
        return self.proc.poll() is None and self.sock.fileno() >= 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the launcher sees EOF and exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _House(_Server):
    """A slot's house: bwrap, started by the launcher as one long run, and the run server inside it
    (`init.c`), which speaks the launcher's protocol less the pid message, in NUL-separated strings
    one way and JSON the other."""

    def __init__(self, launcher: _Launcher, slot: Slot):
        super().__init__()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the house; bwrap's complaints, if any
        accounts = _accounts(slot.uid)
        try:
            with open(os.devnull, "rb") as devnull:
                self.run = launcher.start(  # the fds become the house's 0, 1, 2 and _ACCOUNT_FDS
                    [theirs.fileno(), devnull.fileno(), self.log.fileno(), *accounts],
                    argv=_house_argv(capabilities(), slot.cache_root),
                    env={"PATH": BASE_ENV["PATH"]},  # bwrap keeps it; the house gets only --setenv's
                    rlimits=[],
                    uid=slot.uid if capabilities().root else None,
                    wall_s=_FOREVER_S,
                )
        except LauncherLost as e:
            raise SandboxUnavailable(f"cannot start the sandbox house: {e}") from None
        finally:
            theirs.close()
            for fd in accounts:
                os.close(fd)
        self.sock = ours
        self.launcher = launcher
        self._ready()
        chain = _house_chain(launcher.pid)
        self.resident, self.server_pid = frozenset(chain), chain[-1]
        self.memory_bytes = 0
        if capabilities().root:
            for pid in self.resident:  # the run is the memory cgroup's OOM victim, never the house
                with contextlib.suppress(OSError), open(f"/proc/{pid}/oom_score_adj", "w") as f:
                    f.write("-1000")
        if slot.memory_cg is not None:  # what the house itself is charged, on top of each run's limit
            with contextlib.suppress(OSError, ValueError):
                self.memory_bytes = int((slot.memory_cg / "memory.usage_in_bytes").read_text())

    def run_message(self, run_id: int, request: dict) -> bytes:
        rlimits = [(getattr(resource, name), soft, hard) for name, soft, hard in request["rlimits"]]
        args = [
            "oorl-init",
            request["disk_bytes"],
            request["cwd"],
            request["box"] or "-",
            int(request["box_writable"]),
            len(request["binds"]),
            *(path for pair in request["binds"] for path in pair),
            len(rlimits),
            *(value for limit in rlimits for value in limit),
            "--",
            *request["argv"],
        ]
        env = [f"{key}={value}" for key, value in request["env"].items()]
        strings = ["run", run_id, int(request["wall_s"] * 1000), len(args), *args, *env]
        return b"".join(str(s).encode("utf-8", "surrogateescape") + b"\0" for s in strings)

    def kill_message(self, run_id: int) -> bytes:
        return f"kill\0{run_id}\0".encode()

    def spare(self) -> frozenset[int]:
        """Host pids of the next run, prepared and waiting for its request (its init and runner; see
        init.c), once the server has reaped the last run's init and prepared it; else empty."""
        if self._current is not None and not self._current.done:
            return frozenset()
        inits = _children(self.server_pid)  # every run's init is the run server's child
        runners = _children(inits[0]) if len(inits) == 1 else []
        if len(runners) == 1 and not _children(runners[0]):
            return frozenset({inits[0], runners[0]})
        return frozenset()

    def __str__(self) -> str:
        self.log.seek(0)
        complaint = self.log.read()[-2000:].decode(errors="replace").strip()
        return "the sandbox house" + (f" ({complaint})" if complaint else "")

    def alive(self) -> bool:
        return not self.run.poll() and self.sock.fileno() >= 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the run server sees EOF and exits, and bwrap with it
        if not self.run.wait(timeout=5):
            self.run.kill()
            self.run.wait(timeout=5)
        self.log.close()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _house_chain(launcher: int) -> list[int]:
    """Host pids of a house's long-lived processes: the launcher, bwrap, and the run server (two
    processes: the second is the init of the PID namespace every run's own lies in), each the only
    child of the one before."""
    chain, pid = [launcher], launcher
    while (kids := _children(pid)) and len(kids) == 1:
        pid = kids[0]
        chain.append(pid)
        with contextlib.suppress(OSError), open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == "oorl-init":  # the run server: one more, its PID namespace's init
                chain += _children(pid)[:1]
                break
    return chain


class _Run:
    """One run forked by a server. Its messages: the pid once forked (or why it could not start),
    the wait status once over. `returncode` as `Popen`'s."""

    def __init__(self, server: _Server, run_id: int):
        self.server, self.id = server, run_id
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error = ""  # the server could not start it
        self.lost = False  # the server died or stopped answering

    @property
    def done(self) -> bool:
        return self.returncode is not None or bool(self.error) or self.lost

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the run is over (reaped, never started, or lost), waiting at most `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self.server._receive(remaining)
            except LauncherLost:
                self.lost = True  # bwrap and every run die with their parent
                break
            if not message:  # timed out
                break
            if message.get("id") != self.id:
                continue  # about an earlier run, which we did not wait for
            if "status" in message:
                self.returncode = os.waitstatus_to_exitcode(message["status"])
            elif "error" in message:
                self.error = message["error"]
            elif "pid" in message:
                self.pid = message["pid"]
        return self.done

    def poll(self) -> bool:
        return self.wait(0.0)

    def kill(self) -> None:
        """SIGKILL the run (the server does it: it has not reaped the run yet)."""
        if not self.done:
            with contextlib.suppress(OSError):
                self.server.sock.send(self.server.kill_message(self.id))


def execute(
    argv: list[str] | tuple[str, ...],
    *,
    slot: Slot,
    limits: RunLimits,
    stdin: bytes = b"",
    box: Path | None = None,
    box_writable: bool = False,
    binds: tuple[tuple[Path, str], ...] = (),
    env: dict[str, str] | None = None,
) -> ExecResult:
    """Run `argv` in the sandbox of `slot`; `box` is bound at /box (writable for a compile step) and each
    (host directory, sandbox path under /tmp) of `binds` writable (the slot's own compiler caches).
    Both lie under the slot's cache root."""
    # CPU time: SIGXCPU at the soft limit (a time_limit verdict), SIGKILL a second later for a program
    # that ignores it.
    cpu = max(1, int(limits.cpu_s + 0.999))
    file_size = limits.file_size_mb * 2**20
    rlimits = [
        ("RLIMIT_CORE", 0, 0),
        ("RLIMIT_CPU", cpu, cpu + 1),
        ("RLIMIT_FSIZE", file_size, file_size),
        ("RLIMIT_NOFILE", limits.open_files, limits.open_files),
        ("RLIMIT_NPROC", limits.processes, limits.processes),  # counted in the run's user namespace
    ]
    request = {
        "argv": list(argv),
        "env": {**BASE_ENV, **(env or {})},
        "wall_s": limits.wall_s,
        "box": None if box is None else slot.relative(box),
        "box_writable": box_writable,
        "binds": [(slot.relative(host), dest) for host, dest in binds],
        "disk_bytes": limits.disk_mb * 2**20,
        "cwd": "/box" if box is not None and box_writable else "/tmp",
    }
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    # Our ends as file objects: each is closed exactly once (a second close of a bare fd number could
    # close a file another thread has just opened under the same number)
    stdin_f = open(stdin_w, "wb", buffering=0)  # noqa: SIM115 - closed below
    ours = [stdin_f, *(open(fd, "rb", buffering=0) for fd in (out_r, err_r))]  # noqa: SIM115
    stdin = _prefill(stdin_f, stdin)
    start = time.monotonic()
    try:
        try:
            slot.configure(limits)
            if slot.memory_cg is None and limits.as_headroom_mb is not None:
                address_space = (limits.memory_mb + limits.as_headroom_mb) * 2**20
                rlimits.append(("RLIMIT_AS", address_space, address_space))
            proc = slot.house().start([stdin_r, out_w, err_w], rlimits=rlimits, **request)
        except (OSError, LauncherLost, SandboxUnavailable) as e:
            if isinstance(e, LauncherLost):
                slot.drop_house()
            return ExecResult(
                None, None, b"", b"", 0.0, setup_failed=True, setup_error=f"cannot start the sandbox: {e}"
            )
        finally:
            for fd in (stdin_r, out_w, err_w):  # the run server holds its own copies
                os.close(fd)
        try:
            out, err, timed_out, exceeded = _communicate(proc, stdin, *ours, limits)
        finally:
            _stop(proc)  # once it returns, nothing of the run is left (its PID namespace is gone)
            if proc.lost:
                slot.drop_house()
    finally:
        for f in ours:
            f.close()
    result = ExecResult(
        exit_code=None,
        signal=None,
        stdout=out,
        stderr=err,
        wall_s=time.monotonic() - start,
        timed_out=timed_out,
        output_exceeded=exceeded,
        oom_killed=slot.oom_killed(),
    )
    if proc.error or proc.lost:
        result.setup_failed = True
        result.setup_error = (
            f"cannot start the sandbox: {proc.error}"
            if proc.error
            else "the sandbox house died during the run"
        )
    elif proc.returncode < 0:
        result.signal = -proc.returncode
    else:
        result.exit_code = proc.returncode
    return result


def _prefill(stdin_f, stdin: bytes) -> memoryview:
    """Write what the empty pipe takes of `stdin` now (all of it, for a typical test), closing it if
    that was all; returns the rest, for `_communicate` to feed as the program reads."""
    if not stdin:
        return memoryview(stdin)
    os.set_blocking(stdin_f.fileno(), False)
    try:
        n = os.write(stdin_f.fileno(), stdin)
    except BlockingIOError:
        n = 0
    if n == len(stdin):
        stdin_f.close()
    return memoryview(stdin)[n:]


def _communicate(
    proc: _Run, stdin: bytes | memoryview, stdin_f, stdout_f, stderr_f, limits: RunLimits
) -> tuple[bytes, bytes, bool, bool]:
    """Feed (the rest of) stdin, collect stdout/stderr up to the output cap until the run is over (its
    status comes once every process of it is gone, so both pipes are closed by then), and stop at the
    wall-clock limit. Returns (stdout, stderr, timed_out, output_exceeded)."""
    cap = limits.output_bytes
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + limits.wall_s
    poller = select.poll()  # a few fds, once: cheaper than an epoll instance per run
    outputs = {stdout_f.fileno(): out, stderr_f.fileno(): err}
    for fd in outputs:
        poller.register(fd, select.POLLIN)
    sock = proc.server.sock.fileno()
    poller.register(sock, select.POLLIN)  # its messages, or a lost server
    view, stdin_fd = memoryview(stdin), stdin_f.fileno() if stdin else -1
    if stdin:
        os.set_blocking(stdin_fd, False)
        poller.register(stdin_fd, select.POLLOUT)
    else:
        stdin_f.close()
    timed_out = exceeded = done = False
    readers = 2  # stdout and stderr, until their EOF
    try:
        while (readers or not done) and not exceeded:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for fd, _ in poller.poll(min(remaining, 1.0) * 1000):
                if fd == stdin_fd:
                    try:
                        n = os.write(fd, view[:65536])
                    except BlockingIOError:
                        n = 0
                    except OSError:  # the program closed its stdin
                        n = len(view)
                    view = view[n:]
                    if not view:
                        poller.unregister(fd)
                        stdin_f.close()
                elif fd == sock:
                    if proc.poll():
                        poller.unregister(fd)
                        done = True  # what is left of stdin has nobody to read it
                else:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        poller.unregister(fd)
                        readers -= 1
                        continue
                    outputs[fd].extend(chunk)
                    if len(out) + len(err) > cap:
                        exceeded = True
                        break
    finally:
        with contextlib.suppress(OSError):
            stdin_f.close()
    return bytes(out[:cap]), bytes(err[: max(0, cap - len(out))]), timed_out, exceeded


def _stop(proc: _Run) -> None:
    """End a run: its status comes once its PID namespace is gone."""
    if not proc.poll():
        proc.kill()
        if not proc.wait(timeout=30):
            proc.lost = True  # the run server does not answer: the slot replaces its house
