"""One isolated process run: the mechanism under every compile and every test.

    launcher (root, one per slot, long-lived, already in the slot's cgroups: see `launcher.py`)
      ->  fork: own process group, rlimits, oom_score_adj 1000, drop to the slot's own uid
      ->  exec bwrap: new user, PID, network, IPC, UTS, cgroup and mount namespaces; only system
          directories, read-only; a size-capped tmpfs for /tmp (the working directory); a scrubbed
          environment.

Why each layer (measured on Debian 12, see PLATFORM.md):
- `bwrap --uid` started as root does not drop privileges, so the launcher's child drops first
  (groups, gid, uid; the launcher has already emptied its capability bounding set and inheritable
  capabilities, which the child inherits: what `setpriv` used to do, without its exec).
- Each worker slot holds its own unprivileged uid (never a real account; unique machine-wide while
  held), so concurrent runs cannot touch each other's files and RLIMIT_NPROC (the fallback when
  there is no pids cgroup) is per slot.
- Runs are born in the slot's cgroups: joining a cgroup v1 hierarchy costs an RCU grace period, so
  the launcher joins once instead of every run. It is one task of the pids cgroup (pids.max allows
  for it) and charges a few hundred KiB to the memory cgroup; every run raises its own OOM score to
  the maximum so that the memory cgroup's OOM killer takes the run, never the launcher.
- The PID namespace dies with its init: when the program exits, every daemonised, setsid or
  double-forked child dies with it. The slot's cgroups are then swept (all but the launcher) as a
  second guarantee.
- Memory is bounded by a cgroup where the machine has one; otherwise by RLIMIT_AS where that is safe
  for the runtime (see `Language.as_headroom_mb`) and the runtime's own heap flag where it is not.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SLOT_UID_BASE, SLOT_UID_COUNT = 61000, 4000  # uids 61000..64999 are used only by sandbox slots
CGROUP_ROOT = Path("/sys/fs/cgroup")
_RO_DIRS = ("/usr", "/etc", "/var/lib/ghc")  # everything a toolchain reads; /root, /home, /work stay hidden
_USR_LINKS = ("bin", "lib", "lib64", "sbin", "lib32", "libx32")
_LAUNCHER_SCRIPT = str(Path(__file__).with_name("launcher.py"))
_STATUS_FD = 3  # where the launcher puts bwrap's status pipe in the run's process
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
    setpriv: str | None  # no longer needed: the launcher drops privileges itself
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
        self._configured: tuple[int, int] | None = None

    def launcher(self) -> _Launcher:
        """This slot's launcher, started (or restarted, if it died) on demand."""
        if self._launcher is None or not self._launcher.alive():
            self.drop_launcher()
            self._launcher = _Launcher([cg / "cgroup.procs" for cg in (self.memory_cg, self.pids_cg) if cg])
        return self._launcher

    def drop_launcher(self) -> None:
        """Forget a launcher that died or stopped answering (killing it if need be): the next run starts
        a new one."""
        if self._launcher is not None:
            self._launcher.close()
            self._launcher = None
            self._configured = None

    def configure(self, limits: RunLimits) -> None:
        if self._configured == (limits.memory_mb, limits.processes):
            return  # nothing else writes these files: unchanged since the last run
        self._configured = None
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
            # the launcher is one task of this cgroup: the run itself may still start `processes`
            (self.pids_cg / "pids.max").write_text(str(limits.processes + 1))
        self._configured = (limits.memory_mb, limits.processes)

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
        spare = self._launcher.pid if self._launcher is not None else None
        for cg in (self.pids_cg, self.memory_cg):
            if cg is None:
                continue
            while pids := [int(p) for p in (cg / "cgroup.procs").read_text().split() if int(p) != spare]:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                if time.monotonic() > deadline:
                    raise SandboxUnavailable(f"processes {pids[:10]} in {cg} survive SIGKILL")
                time.sleep(0.002)

    def close(self) -> None:
        if self._launcher is not None:
            self._launcher.close()
            self._launcher = None
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


class LauncherLost(RuntimeError):
    """The slot's launcher died (or stopped answering) during a run."""


class _Launcher:
    """Our end of a slot's launcher process (see `oorl.sandbox.launcher`)."""

    def __init__(self, cgroup_procs: list[Path]):
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
        self._ids = 0
        self._current: _Run | None = None
        try:
            ready = self._receive(timeout=30)
        except LauncherLost as e:
            self.close()
            raise SandboxUnavailable(f"the sandbox launcher did not start: {e}") from None
        self.pid: int = ready["ready"]

    def alive(self) -> bool:
        return self.proc.poll() is None and self.sock.fileno() >= 0

    def _receive(self, timeout: float | None) -> dict:
        """The next message; {} on timeout. Raises LauncherLost if the launcher is gone."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return {}
        try:
            data = self.sock.recv(1 << 16)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        if not data:
            raise LauncherLost(f"the launcher exited ({self.proc.poll()})")
        return json.loads(data)

    def start(
        self,
        *,
        argv: list[str],
        env: dict[str, str],
        rlimits: list,
        uid: int | None,
        wall_s: float,
        fds: list[int],
    ) -> _Run:
        if self._current is not None and not self._current.wait(timeout=30):
            # one run at a time: the launcher reads nothing but kill requests until it has reaped
            # the last one (normally long done: we stop waiting for it once bwrap reports the exit)
            raise LauncherLost("the launcher did not finish the previous run in 30 s")
        self._ids += 1
        request = {
            "op": "run",
            "id": self._ids,
            "argv": argv,
            "env": env,
            "rlimits": rlimits,
            "uid": uid,
            "wall_s": wall_s,
        }
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        except OSError as e:
            raise LauncherLost(str(e)) from None
        self._current = _Run(self, self._ids)  # its pid (or why it could not fork) comes as a message
        return self._current

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()  # the launcher sees EOF and exits
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _Run:
    """One run forked by the launcher. Its messages: the pid once forked (or why it could not fork),
    the wait status once reaped. `returncode` as `Popen`'s."""

    def __init__(self, launcher: _Launcher, run_id: int):
        self.launcher, self.id = launcher, run_id
        self.pid: int | None = None
        self.returncode: int | None = None
        self.error = ""  # the launcher could not fork it
        self.lost = False  # the launcher died or stopped answering

    @property
    def done(self) -> bool:
        return self.returncode is not None or bool(self.error) or self.lost

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the run is over (reaped, never started, or lost), waiting at most `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self.launcher._receive(remaining)
            except LauncherLost:
                self.lost = True  # bwrap dies with its parent (--die-with-parent)
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
        """SIGKILL the run's process group (the launcher does it: it has not reaped the run yet)."""
        if not self.done:
            with contextlib.suppress(OSError):
                self.launcher.sock.send(json.dumps({"op": "kill", "id": self.id}).encode())


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
    # CPU time: SIGXCPU at the soft limit (a time_limit verdict), SIGKILL a second later for a program
    # that ignores it.
    cpu = max(1, int(limits.cpu_s + 0.999))
    file_size = limits.file_size_mb * 2**20
    rlimits = [
        ("RLIMIT_CORE", 0, 0),
        ("RLIMIT_CPU", cpu, cpu + 1),
        ("RLIMIT_FSIZE", file_size, file_size),
        ("RLIMIT_NOFILE", limits.open_files, limits.open_files),
    ]
    if slot.pids_cg is None and caps.root:
        rlimits.append(("RLIMIT_NPROC", limits.processes, limits.processes))
    if slot.memory_cg is None and limits.as_headroom_mb is not None:
        address_space = (limits.memory_mb + limits.as_headroom_mb) * 2**20
        rlimits.append(("RLIMIT_AS", address_space, address_space))
    cmd = [
        *_bwrap_argv(
            caps,
            box=box,
            box_writable=box_writable,
            binds=binds,
            disk_mb=limits.disk_mb,
            env=env or {},
            status_fd=_STATUS_FD,
        ),
        "--",
        *argv,
    ]
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    status_r, status_w = os.pipe()
    # Our ends as file objects: each is closed exactly once (a second close of a bare fd number could
    # close a file another thread has just opened under the same number)
    stdin_f = open(stdin_w, "wb", buffering=0)  # noqa: SIM115 - closed below
    ours = [stdin_f, *(open(fd, "rb", buffering=0) for fd in (out_r, err_r, status_r))]  # noqa: SIM115
    oom_before = slot.oom_kills()
    start = time.monotonic()
    try:
        try:
            # bwrap's init inside the sandbox keeps the environment it was started with (readable in
            # /proc/1/environ): it gets nothing of ours
            proc = slot.launcher().start(
                argv=cmd,
                env={"PATH": "/usr/bin:/bin"},
                rlimits=rlimits,
                uid=slot.uid if caps.root else None,
                wall_s=limits.wall_s,
                fds=[stdin_r, out_w, err_w, status_w],
            )
        except (OSError, LauncherLost, SandboxUnavailable) as e:
            if isinstance(e, LauncherLost):
                slot.drop_launcher()
            return ExecResult(
                None, None, b"", b"", 0.0, setup_failed=True, setup_error=f"cannot start the sandbox: {e}"
            )
        finally:
            for fd in (stdin_r, out_w, err_w, status_w):  # the launcher holds its own copies
                os.close(fd)
        status: dict = {}
        try:
            out, err, timed_out, exceeded = _communicate(proc, stdin, *ours, status, limits)
        finally:
            _stop(proc, status.get("child-pid"), finished="exit-code" in status)
            if proc.lost:
                slot.drop_launcher()
            slot.sweep()
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
        oom_killed=slot.oom_kills() > oom_before,
    )
    if proc.error or proc.lost:
        result.setup_failed = True
        result.setup_error = (
            f"cannot start the sandbox: {proc.error}"
            if proc.error
            else "the sandbox launcher died during the run"
        )
        return result
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
    proc: _Run,
    stdin: bytes,
    stdin_f,
    stdout_f,
    stderr_f,
    status_f,
    status: dict,
    limits: RunLimits,
) -> tuple[bytes, bytes, bool, bool]:
    """Feed stdin, collect stdout/stderr up to the output cap, read bwrap's JSON status lines into
    `status`, and stop at the wall-clock limit. Returns (stdout, stderr, timed_out, output_exceeded)."""
    cap = limits.output_bytes
    out, err, status_buf = bytearray(), bytearray(), bytearray()
    deadline = time.monotonic() + limits.wall_s
    sel = selectors.DefaultSelector()
    sel.register(stdout_f, selectors.EVENT_READ, out)
    sel.register(stderr_f, selectors.EVENT_READ, err)
    sel.register(status_f, selectors.EVENT_READ, status_buf)
    sel.register(proc.launcher.sock, selectors.EVENT_READ, proc)  # its messages, or a lost launcher
    watching = 1  # the launcher's socket stays registered until the run is over
    view = memoryview(stdin)
    if stdin:
        os.set_blocking(stdin_f.fileno(), False)
        sel.register(stdin_f, selectors.EVENT_WRITE, None)
    else:
        stdin_f.close()
    timed_out = exceeded = False
    try:
        while len(sel.get_map()) > watching and not exceeded:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(remaining, 1.0)):
                if key.data is None:
                    try:
                        n = os.write(key.fd, view[:65536])
                    except BlockingIOError:
                        n = 0
                    except OSError:  # the program closed its stdin
                        n = len(view)
                    view = view[n:]
                    if not view:
                        sel.unregister(key.fileobj)
                        key.fileobj.close()
                    continue
                if key.data is proc:
                    if proc.poll():
                        sel.unregister(key.fileobj)
                        watching = 0
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
        status.update(_parse_status(status_buf))
        # bwrap writes the program's exit status, then exits and so closes the pipes: no need to wait
        # for the launcher to reap it (_stop waits for the namespace's init; the sweep takes the rest)
        finished = "exit-code" in status
        if not (timed_out or exceeded or finished or proc.wait(max(0.0, deadline - time.monotonic()))):
            timed_out = True
    finally:
        sel.close()
        with contextlib.suppress(OSError):
            stdin_f.close()
    status.update(_parse_status(status_buf))
    return bytes(out[:cap]), bytes(err[: max(0, cap - len(out))]), timed_out, exceeded


def _parse_status(data: bytes | bytearray) -> dict:
    status: dict = {}
    for line in bytes(data).splitlines():
        with contextlib.suppress(ValueError):
            status.update(json.loads(line))
    return status


def _stop(proc: _Run, child_pid: int | None, finished: bool) -> None:
    """End a run and wait until its PID namespace is gone.

    Killing the namespace's init (bwrap's child) takes the whole namespace down. The outer bwrap
    exits as soon as it knows the exit status, possibly while that init is still reaping the
    namespace, so we also wait for the init itself to finish exiting.
    """
    if not finished:
        if not proc.poll() and child_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_pid, signal.SIGKILL)
            proc.wait(timeout=2)
        if not proc.poll():
            proc.kill()
            if not proc.wait(timeout=30):
                proc.lost = True  # the launcher does not answer: the slot replaces it
    if child_pid:
        _wait_gone(child_pid, timeout=5)


def _wait_gone(pid: int, timeout: float) -> None:
    """SIGKILL `pid` and wait until it has exited (a zombie counts as gone), for at most `timeout`."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([pidfd], [], [], 0)[0]:  # readable once the process has exited
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
