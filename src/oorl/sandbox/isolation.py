"""One isolated process run: the mechanism under every compile and every test.

    sh (root): join this slot's cgroups, set rlimits  ->  setpriv: drop to the slot's own uid
      ->  bwrap: new user, PID, network, IPC, UTS and mount namespaces; only system directories,
          read-only; a size-capped tmpfs for /tmp (the working directory); a scrubbed environment.

Why each layer (measured on Debian 12, see PLATFORM.md):
- `bwrap --uid` started as root does not drop privileges, so setpriv drops first.
- Each worker slot holds its own unprivileged uid (never a real account; unique machine-wide while
  held), so concurrent runs cannot touch each other's files and RLIMIT_NPROC (the fallback when
  there is no pids cgroup) is per slot.
- The PID namespace dies with its init: when the program exits, every daemonised, setsid or
  double-forked child dies with it. The slot's cgroup is then swept as a second guarantee.
- Memory is bounded by a cgroup where the machine has one; otherwise by RLIMIT_AS where that is safe
  for the runtime (see `Language.as_headroom_mb`) and the runtime's own heap flag where it is not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SLOT_UID_BASE, SLOT_UID_COUNT = 61000, 4000  # uids 61000..64999 are used only by sandbox slots
CGROUP_ROOT = Path("/sys/fs/cgroup")
_RO_DIRS = ("/usr", "/etc", "/var/lib/ghc")  # everything a toolchain reads; /root, /home, /work stay hidden
_USR_LINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
}


class SandboxUnavailable(RuntimeError):
    """The machine lacks what isolation needs (bwrap, setpriv, user namespaces)."""


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
    setpriv: str | None
    memory_cgroup: Path | None
    pids_cgroup: Path | None

    @property
    def memory_enforcement(self) -> str:
        if self.memory_cgroup is not None:
            return f"cgroup v1 memory controller ({self.memory_cgroup})"
        return "no memory cgroup: RLIMIT_AS where safe, else the runtime's heap flag (JVM -Xmx, node --max-old-space-size)"

    @property
    def process_enforcement(self) -> str:
        if self.pids_cgroup is not None:
            return f"cgroup v1 pids controller ({self.pids_cgroup})"
        return "no pids cgroup: RLIMIT_NPROC for the slot's own uid"


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
        setpriv=shutil.which("setpriv"),
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
    """One worker's private identity: its uid and its cgroups, reused run after run."""

    def __init__(self):
        caps = capabilities()
        if caps.bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed: apt-get install bubblewrap")
        if caps.root and caps.setpriv is None:
            raise SandboxUnavailable("setpriv is not installed: apt-get install util-linux")
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

    def configure(self, limits: RunLimits) -> None:
        if self.memory_cg is not None:
            nbytes = str(limits.memory_mb * 2**20)
            with contextlib.suppress(OSError):  # memsw exists only with swap accounting
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text("-1")
            _write_first(self.memory_cg, ("memory.limit_in_bytes", "memory.max"), nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.memsw.limit_in_bytes").write_text(nbytes)
            with contextlib.suppress(OSError):
                (self.memory_cg / "memory.max_usage_in_bytes").write_text("0")
        if self.pids_cg is not None:
            (self.pids_cg / "pids.max").write_text(str(limits.processes))

    def oom_kills(self) -> int:
        if self.memory_cg is None:
            return 0
        for name in ("memory.oom_control", "memory.events"):
            with contextlib.suppress(OSError):
                for line in (self.memory_cg / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def sweep(self, timeout: float = 5.0) -> None:
        """Kill anything still alive in this slot's cgroups (normally nothing: the PID namespace is gone),
        repeating until they are empty, since a dying fork bomb can still be forking."""
        deadline = time.monotonic() + timeout
        for cg in (self.pids_cg, self.memory_cg):
            if cg is None:
                continue
            while pids := [int(p) for p in (cg / "cgroup.procs").read_text().split()]:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if time.monotonic() > deadline:
                    raise SandboxUnavailable(f"processes {pids[:10]} in {cg} survive SIGKILL")
                time.sleep(0.002)

    def close(self) -> None:
        self.sweep()
        for cg in (self.memory_cg, self.pids_cg):
            if cg is not None:
                with contextlib.suppress(OSError):
                    cg.rmdir()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _write_first(directory: Path, names: tuple[str, ...], value: str) -> None:
    for name in names:
        path = directory / name
        if path.exists():
            path.write_text(value)
            return


def _bwrap_argv(
    caps: Capabilities,
    *,
    box: Path | None,
    box_writable: bool,
    binds: tuple[tuple[Path, str], ...],
    disk_mb: int,
    env: dict[str, str],
    status_fd: int,
) -> list[str]:
    argv = [
        caps.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--json-status-fd",
        str(status_fd),
    ]
    for d in _RO_DIRS:
        if os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for name in _USR_LINKS:  # merged-/usr systems link these into /usr; older ones have real directories
        if os.path.islink(f"/{name}"):
            argv += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            argv += ["--ro-bind", f"/{name}", f"/{name}"]
    # The writable file systems share the disk budget: /dev/shm (POSIX shared memory) an eighth, /tmp the rest.
    shm = disk_mb * 2**20 // 8
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(shm), "--tmpfs", "/dev/shm"]
    argv += ["--size", str(disk_mb * 2**20 - shm), "--tmpfs", "/tmp"]
    if box is not None:
        argv += ["--bind" if box_writable else "--ro-bind", str(box), "/box"]
    for host, dest in binds:
        argv += ["--bind", str(host), dest]
    # bwrap builds the root and /dev as tmpfs: writable, they would bypass the disk budget
    argv += ["--remount-ro", "/dev", "--remount-ro", "/"]
    argv += ["--chdir", "/box" if box is not None and box_writable else "/tmp", "--clearenv"]
    for key, value in {**BASE_ENV, **env}.items():
        argv += ["--setenv", key, value]
    return argv


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
    (host directory, sandbox path) of `binds` writable (the slot's own compiler caches)."""
    caps = capabilities()
    slot.configure(limits)
    status_r, status_w = os.pipe()
    # dash's ulimit takes one limit per call; -f counts 512-byte blocks, -v KiB. CPU time: SIGXCPU at
    # the soft limit (a time_limit verdict), SIGKILL a second later for a program that ignores it.
    cpu = max(1, int(limits.cpu_s + 0.999))
    rlimits = {
        "-c": 0,
        "-S -t": cpu,  # the soft limit first: a hard limit below the current soft one is invalid
        "-H -t": cpu + 1,
        "-f": limits.file_size_mb * 2048,
        "-n": limits.open_files,
    }
    if slot.pids_cg is None and caps.root:
        rlimits["-u"] = limits.processes
    if slot.memory_cg is None and limits.as_headroom_mb is not None:
        rlimits["-v"] = (limits.memory_mb + limits.as_headroom_mb) * 1024
    script = "".join(f"ulimit {flag} {value}; " for flag, value in rlimits.items())
    if slot.memory_cg or slot.pids_cg:
        script = 'echo $$ > "$1"; echo $$ > "$2"; ' + script
    script += 'shift 2; exec "$@"'
    drop = (
        [
            caps.setpriv,
            f"--reuid={slot.uid}",
            f"--regid={slot.uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
        if caps.root
        else []
    )
    cmd = [
        "/bin/sh",
        "-c",
        script,
        "sh",
        str(slot.memory_cg / "cgroup.procs") if slot.memory_cg else "/dev/null",
        str(slot.pids_cg / "cgroup.procs") if slot.pids_cg else "/dev/null",
        *drop,
        *_bwrap_argv(
            caps,
            box=box,
            box_writable=box_writable,
            binds=binds,
            disk_mb=limits.disk_mb,
            env=env or {},
            status_fd=status_w,
        ),
        "--",
        *argv,
    ]
    oom_before = slot.oom_kills()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(status_w,),
            start_new_session=True,
            close_fds=True,
            # bwrap's init inside the sandbox keeps the environment it was started with (readable in
            # /proc/1/environ): it gets nothing of ours
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
        )
    except OSError as e:
        os.close(status_r)
        os.close(status_w)
        return ExecResult(
            None, None, b"", b"", 0.0, setup_failed=True, setup_error=f"cannot start the sandbox: {e}"
        )
    os.close(status_w)
    status: dict = {}
    try:
        out, err, timed_out, exceeded = _communicate(proc, stdin, status_r, status, limits)
    finally:
        _stop(proc, status.get("child-pid"))
        slot.sweep()
        os.close(status_r)
    result = ExecResult(
        exit_code=None,
        signal=None,
        stdout=out,
        stderr=err,
        wall_s=time.monotonic() - start,
        timed_out=timed_out,
        output_exceeded=exceeded,
        oom_killed=slot.oom_kills() > oom_before,
    )
    if "child-pid" not in status and not (timed_out or exceeded):
        result.setup_failed = True
        result.setup_error = (
            f"sandbox set-up failed (exit {proc.returncode}): {err.decode(errors='replace')[-2000:]}"
        )
        return result
    code = status.get("exit-code", proc.returncode)
    if "exit-code" in status and code > 128:
        result.signal = code - 128  # bwrap reports a signal death of the program as 128 + signal
    elif code is not None and code < 0:
        result.signal = -code
    else:
        result.exit_code = code
    return result


def _communicate(
    proc: subprocess.Popen, stdin: bytes, status_fd: int, status: dict, limits: RunLimits
) -> tuple[bytes, bytes, bool, bool]:
    """Feed stdin, collect stdout/stderr up to the output cap, read bwrap's JSON status lines into
    `status`, and stop at the wall-clock limit. Returns (stdout, stderr, timed_out, output_exceeded)."""
    cap = limits.output_bytes
    out, err, status_buf = bytearray(), bytearray(), bytearray()
    deadline = time.monotonic() + limits.wall_s
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    sel.register(status_fd, selectors.EVENT_READ, status_buf)
    view = memoryview(stdin)
    if stdin:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE, None)
    else:
        proc.stdin.close()
    timed_out = exceeded = False
    try:
        while sel.get_map() and not exceeded:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(remaining, 1.0)):
                if key.data is None:
                    try:
                        n = os.write(key.fd, view[:65536])
                    except OSError:  # the program closed its stdin
                        n = len(view)
                    view = view[n:]
                    if not view:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                if key.data is status_buf:
                    status.update(_parse_status(status_buf))
                elif len(out) + len(err) > cap:
                    exceeded = True
                    break
        if not (timed_out or exceeded):
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        sel.close()
        with contextlib.suppress(OSError):
            proc.stdin.close()
    status.update(_parse_status(status_buf))
    return bytes(out[:cap]), bytes(err[: max(0, cap - len(out))]), timed_out, exceeded


def _parse_status(data: bytes | bytearray) -> dict:
    status: dict = {}
    for line in bytes(data).splitlines():
        with contextlib.suppress(ValueError):
            status.update(json.loads(line))
    return status


def _stop(proc: subprocess.Popen, child_pid: int | None) -> None:
    """End a run and wait until its PID namespace is gone.

    Killing the namespace's init (bwrap's child) takes the whole namespace down. The outer bwrap
    exits as soon as it knows the exit status, possibly while that init is still reaping the
    namespace, so we also wait for the init itself to finish exiting.
    """
    if proc.poll() is None and child_pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child_pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()
    if child_pid:
        deadline = time.monotonic() + 5
        while _alive(child_pid) and time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_pid, signal.SIGKILL)
            time.sleep(0.001)


def _alive(pid: int) -> bool:
    """True while `pid` exists and is not yet a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
